#!/usr/bin/python3
"""Golden catalog lookups for ksauth, answered by keystoneauth1.

Builds catalog fixtures (the distinct catalogs of the recorded Keystone
exchanges in testdata/keystone plus synthetic ones), asks keystoneauth1's
ServiceCatalogV3.url_for for every lookup of a grid per fixture
(type x name x region x interface preference list) and writes the answers
to testdata/catalog/keystoneauth1.json, which catalog_oracle_test.go
replays against ksauth's Catalog.Endpoint.

Needs the Debian bookworm packages python3-keystoneauth1 (5.0.0) and
python3-os-service-types (1.7.0); run with /usr/bin/python3. See README.md.
"""

import glob
import hashlib
import importlib.metadata
import json
import os
import sys

from keystoneauth1 import discover
from keystoneauth1 import exceptions
from keystoneauth1.access.service_catalog import ServiceCatalogV3

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "testdata", "catalog", "keystoneauth1.json")
TYPES = discover._SERVICE_TYPES  # the os-service-types instance keystoneauth uses

# Answer codes besides an index into the fixture's "urls".
NOT_FOUND = -1      # keystoneauth1 raised EndpointNotFound
VALUE_ERROR = -2    # keystoneauth1 raised ValueError("Programming error
#                     choosing an endpoint."): two or more alias types of
#                     the request are in the catalog but none has a matching
#                     endpoint. It finds nothing, as ksauth (ErrNotFound).
EMPTY_CATALOG = -3  # keystoneauth1 raised EmptyCatalog (ksauth: ErrNoCatalog)

# Interface preference lists, shared by all fixtures. None stands for
# ksauth's nil Interfaces ("public only"), asked of keystoneauth as its
# url_for default, interface='public'.
#
# Deliberately left out, where ksauth differs on purpose:
# - an empty list: keystoneauth then applies no interface filter at all,
#   ksauth treats it as nil (public only);
# - other letter cases ("Internal", "PUBLIC", "publicurl"): ksauth
#   lower-cases interfaces and strips a "url" suffix in any case,
#   keystoneauth only strips the characters U, R, L from the right
#   (rstrip('URL')) and compares exactly.
INTERFACES = [
    None,
    ["public"],
    ["internal"],
    ["admin"],
    ["internal", "public"],
    ["public", "internal"],
    ["admin", "internal", "public"],
    ["internal", "admin"],
    ["publicURL"],
    ["internalURL", "publicURL"],
    ["nonsense", "admin"],
]

# Types asked of every fixture besides those derived from its catalog.
# The empty type is not among them on purpose: ksauth refuses it
# (ValidationError), keystoneauth returns the first endpoint of any type.
EXTRA_TYPES = ["compute", "identity", "block-storage", "volumev3", "volume",
               "shared-file-system", "sharev2", "dns", "my-service"]


def norm_type(t):
    """The requested type as ksauth reads it: underscores are hyphens.

    ksauth normalises the requested type as os-service-types'
    _normalize_type does; keystoneauth1 5.0.0 does not (is_match compares
    the requested type as given, so url_for(service_type='block_storage')
    finds nothing). Underscore spellings are therefore asked of
    keystoneauth in their hyphenated form, and the golden records what
    keystoneauth answers for that.
    """
    return t.replace("_", "-")


# ---------------------------------------------------------------- fixtures

DROP, SAME = object(), object()


class Cat:
    """Builds a synthetic catalog with unique endpoint ids and URLs."""

    def __init__(self):
        self.services = []
        self.n = 0

    def svc(self, type_, name="", endpoints=(), **extra):
        """Appends a service; None for type_, name or endpoints leaves the key out."""
        s = {"id": "svc-%d" % len(self.services)}
        if type_ is not None:
            s["type"] = type_
        if name is not None:
            s["name"] = name
        s.update(extra)
        if endpoints is not None:
            s["endpoints"] = list(endpoints)
        self.services.append(s)
        return self

    def ep(self, iface, region="RegionOne", region_id=SAME, url=None, **kw):
        """One endpoint; region_id defaults to region (as Keystone sends).

        region_id=DROP (or region=DROP) leaves the key out.
        """
        self.n += 1
        if url is None:
            where = region if region not in (None, "", DROP) else "noregion"
            url = "https://%s-%d.example.test/%s" % (iface or "none", self.n, where)
        e = {"id": "ep-%d" % self.n, "interface": iface,
             "region_id": region if region_id is SAME else region_id,
             "region": region, "url": url}
        e.update(kw)
        return {k: v for k, v in e.items() if v is not DROP}

    def eps(self, region="RegionOne", ifaces=("public", "internal", "admin")):
        return [self.ep(i, region) for i in ifaces]


def synthetic():
    """Yields (name, doc, catalog) of the synthetic fixtures."""
    c = Cat()
    c.svc("compute", "nova-a", c.eps(ifaces=["public"]))
    c.svc("compute", "nova-b", c.eps(ifaces=["internal", "public"]))
    c.svc("compute", "nova-c", c.eps(ifaces=["internal"]))
    yield "multi-compute-interfaces", "three compute services with different interfaces: the preference applies across all of them", c.services

    c = Cat()
    c.svc("compute", "nova", c.eps(ifaces=["public", "internal"]))
    c.svc("compute", "nova2", c.eps(ifaces=["internal", "public"]))
    yield "multi-compute-same-interfaces", "two compute services with the same interfaces: the first in catalog order wins", c.services

    c = Cat()
    c.svc("compute", "nova-one", c.eps("RegionOne", ["public"]))
    c.svc("compute", "nova-two", c.eps("RegionTwo", ["public"]) + c.eps("RegionOne", ["internal"]))
    yield "multi-compute-regions", "two compute services, regions split between them", c.services

    c = Cat()
    c.svc("network", "neutron", c.eps())
    c.svc("compute", "nova-legacy", c.eps("RegionOne", ["admin"]))
    c.svc("image", "glance", c.eps())
    c.svc("compute", "nova", c.eps("RegionOne", ["internal", "public"]) + c.eps("RegionTwo"))
    c.svc("compute", "nova-cells", c.eps("RegionTwo", ["admin", "internal"]))
    yield "multi-compute-interleaved", "compute services interleaved with other types", c.services

    for t, name in [("volume", "cinder"), ("volumev2", "cinderv2"), ("volumev3", "cinderv3"),
                    ("block-storage", "cinder"), ("block-store", "cinder-old")]:
        c = Cat()
        c.svc("identity", "keystone", c.eps())
        c.svc(t, name, c.eps())
        yield t + "-only", "only a %s service of the block-storage family" % t, c.services

    c = Cat()
    c.svc("volume", "cinder", c.eps())
    c.svc("volumev2", "cinderv2", c.eps())
    c.svc("volumev3", "cinderv3", c.eps())
    yield "cinder-devstack-era", "volume, volumev2 and volumev3, in that order (devstack of the Pike era)", c.services

    c = Cat()
    for t in ["block-store", "volume", "volumev2", "volumev3", "block-storage"]:
        c.svc(t, "cinder-" + t, c.eps(ifaces=["public", "internal"]))
    yield "block-storage-all-five", "all five block-storage types, in reverse table order", c.services

    c = Cat()
    c.svc("volumev3", "cinderv3", c.eps(ifaces=["internal"]))
    c.svc("block-storage", "cinder", c.eps(ifaces=["public"]))
    yield "block-storage-type-beats-interface", "block-storage public only, volumev3 internal only", c.services

    c = Cat()
    c.svc("volumev2", "cinderv2", c.eps("RegionOne"))
    c.svc("volumev3", "cinderv3", c.eps("RegionTwo"))
    yield "volumev2-volumev3-regions", "volumev2 in RegionOne, volumev3 in RegionTwo", c.services

    c = Cat()
    c.svc("volume", "cinder", c.eps(ifaces=["admin"]))
    c.svc("volumev3", "cinderv3", c.eps(ifaces=["admin"]))
    yield "volume-admin-only", "two alias types with admin endpoints only (keystoneauth's ValueError path)", c.services

    c = Cat()
    c.svc("share", "manila", c.eps())
    c.svc("sharev2", "manilav2", c.eps())
    yield "share-sharev2", "share (v1) before sharev2", c.services

    c = Cat()
    c.svc("share", "manila", c.eps())
    yield "share-only", "only share (v1)", c.services

    c = Cat()
    c.svc("sharev2", "manilav2", c.eps(ifaces=["public"]))
    c.svc("shared-file-system", "manila", c.eps(ifaces=["internal"]))
    yield "shared-file-system-sharev2", "sharev2 public, shared-file-system internal", c.services

    c = Cat()
    c.svc("metering", "ceilometer", c.eps())
    c.svc("telemetry", "ceilometer-t", c.eps("RegionTwo"))
    c.svc("alarming", "aodh", c.eps())
    yield "telemetry-family", "metering and telemetry (aliases of meter), alarming", c.services

    c = Cat()
    c.svc("cluster", "senlin-old", c.eps())
    c.svc("clustering", "senlin", c.eps(ifaces=["internal"]))
    c.svc("container-infra", "magnum", c.eps())
    c.svc("container-infrastructure-management", "magnum2", c.eps("RegionTwo"))
    yield "clustering-and-magnum", "clustering and container-infrastructure-management with aliases", c.services

    c = Cat()
    c.svc("workflowv2", "mistral", c.eps())
    c.svc("baremetal", "ironic", c.eps(ifaces=["internal"]))
    c.svc("bare-metal", "ironic-old", c.eps(ifaces=["public"]))
    yield "workflow-baremetal", "workflowv2 only; baremetal internal and bare-metal public", c.services

    c = Cat()
    c.svc("compute", "nova", [
        c.ep("public", "Legacy", region_id="r-1"),
        c.ep("internal", "RegionX", region_id="RegionX"),
        c.ep("public", None, region_id="RegionX"),
        c.ep("public", "OnlyName", region_id=DROP),
        c.ep("admin", "OnlyName", region_id=DROP),
        c.ep("internal", "NullID", region_id=None),
        c.ep("admin", "", region_id=""),
        c.ep("public", DROP, region_id=DROP),
    ])
    yield "region-id-vs-name", "region_id and region differing, missing or null", c.services

    c = Cat()
    c.svc("compute", "nova", c.eps(ifaces=["admin"]))
    c.svc("network", "neutron", c.eps(ifaces=["internal"]))
    c.svc("image", "glance", c.eps(ifaces=["public"]))
    c.svc("volumev3", "cinderv3", c.eps("RegionOne", ["public"]) + c.eps("RegionTwo", ["internal"]))
    yield "missing-interfaces", "services lacking some interfaces", c.services

    c = Cat()
    c.svc("compute", "nova", [])
    c.svc("volumev3", "cinderv3", None)
    c.svc("block-storage", "cinder", [])
    c.svc("network", "neutron", c.eps())
    yield "empty-endpoints", "services with no endpoints, or no endpoints key", c.services

    c = Cat()
    c.svc("compute", "", c.eps(ifaces=["public"]))
    c.svc("compute", "nova", c.eps(ifaces=["public", "internal"]))
    c.svc("image", None, c.eps())
    c.svc("network", "neutron", c.eps(ifaces=["admin"]))
    c.svc("network", None, c.eps(ifaces=["admin", "public"]))
    yield "nameless-services", "services with an empty or missing name", c.services

    c = Cat()
    c.svc("compute", "nova", [c.ep("public", url=""), c.ep("internal"), c.ep("public", "RegionTwo")])
    c.svc("image", "glance", [c.ep("public", url="")])
    yield "empty-urls", "endpoints with an empty URL", c.services

    c = Cat()
    c.svc(None, "untyped", c.eps())
    c.svc("", "empty-type", c.eps())
    c.svc("compute", "nova", c.eps())
    yield "typeless-services", "a service without a type and one with an empty type", c.services

    c = Cat()
    c.svc("Compute", "Nova", c.eps("regionone"))
    c.svc("compute", "nova", c.eps("RegionOne", ["internal"]))
    c.svc("Volumev3", "cinderv3", c.eps())
    yield "case-variants", "types, names and regions differing only in case", c.services

    c = Cat()
    c.svc("application_deployment", "solum-old", c.eps(ifaces=["public"]))
    c.svc("application-deployment", "solum", c.eps(ifaces=["internal"]))
    yield "application-deployment", "the one alias spelt with an underscore, next to its official type", c.services

    c = Cat()
    c.svc("compute", "nova", [c.ep("publicURL"), c.ep("Public"), c.ep(""), c.ep("internal")])
    yield "odd-interface-spellings", "endpoint interfaces spelt publicURL, Public or empty in the catalog", c.services

    c = Cat()
    c.svc("compute", "nova", [c.ep("public"), c.ep("public"), c.ep("internal"), c.ep("internal", "RegionTwo")])
    yield "duplicate-endpoints", "two endpoints of one interface and region in one service", c.services

    c = Cat()
    regions = ["Kna1", "Sto2", "Fra1"]
    for t, name in [("identity", "keystone"), ("compute", "nova"), ("network", "neutron"),
                    ("image", "glance"), ("volumev3", "cinderv3"), ("volumev2", "cinderv2"),
                    ("object-store", "swift"), ("load-balancer", "octavia"),
                    ("key-manager", "barbican"), ("orchestration", "heat"),
                    ("placement", "placement"), ("sharev2", "manilav2"), ("share", "manila"),
                    ("dns", "designate")]:
        c.svc(t, name, [e for r in regions for e in c.eps(r)])
    yield "public-cloud-three-regions", "a public-cloud-like catalog: 14 services in three regions", c.services

    c = Cat()
    c.svc("my-service", "mine", c.eps())
    c.svc("myservicev2", "mine2", c.eps())
    c.svc("rating", "cloudkitty", c.eps(ifaces=["internal"]))
    yield "custom-types", "types os-service-types does not know, and rating", c.services

    c = Cat()
    c.svc("identity", "keystone", [c.ep("public", url="http://127.0.0.1:5000/v3")])
    yield "identity-only", "a single identity endpoint", c.services


def captures():
    """Yields (name, doc, catalog) for each distinct catalog in testdata/keystone."""
    seen = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "testdata", "keystone", "*.json"))):
        with open(path) as f:
            body = json.load(f)["response"]["body"]
        if not isinstance(body, dict):
            continue
        token = body.get("token") or {}
        catalog = token.get("catalog", body.get("catalog"))
        if catalog is None:
            continue
        key = hashlib.sha256(json.dumps(catalog, sort_keys=True).encode()).hexdigest()
        seen.setdefault(key, (catalog, []))[1].append(os.path.basename(path))
    for catalog, files in seen.values():
        # Named after a password-auth exchange where there is one.
        first = min(files, key=lambda f: (not f.startswith("auth_password_"), f))
        yield ("capture-" + first[:-len(".json")],
               "recorded Keystone 22.0.2 catalog, as in " + ", ".join(files), catalog)
    yield ("capture-auth_password_nocatalog",
           "a token without a catalog (auth_password_nocatalog): empty", [])


def check_fixture(name, catalog):
    """Refuses catalogs outside what the oracle compares.

    - An endpoint without an "interface" or "url" key, or "endpoints": null,
      crashes keystoneauth (KeyError / TypeError); Keystone always sends
      them, and the fixtures use "" instead.
    - A service type with an underscore that is not itself an alias of the
      table (only application_deployment is): keystoneauth normalises the
      catalog's type when comparing it with official types ("object_store"
      in a catalog answers to "object-store"), ksauth matches catalog
      types as registered, on purpose.
    """
    for s in catalog:
        if "_" in (s.get("type") or "") and s["type"] not in TYPES.reverse:
            sys.exit("%s: catalog type %r not compared (see check_fixture)" % (name, s["type"]))
        if "endpoints" in s and s["endpoints"] is None:
            sys.exit("%s: endpoints null" % name)
        for e in s.get("endpoints", []):
            if "interface" not in e or "url" not in e:
                sys.exit("%s: endpoint without interface or url" % name)


# ------------------------------------------------------------------- axes

def uniq(xs):
    out = []
    for x in xs:
        if x not in out:
            out.append(x)
    return out


def axis_types(catalog):
    types = [s["type"] for s in catalog if s.get("type")]
    for t in list(types):
        if TYPES.is_known(t):
            types += TYPES.get_all_types(t)
    types = uniq(types + EXTRA_TYPES)
    types += [t.replace("-", "_") for t in types if "-" in t]
    if catalog and catalog[0].get("type"):
        first = catalog[0]["type"]
        types += [first.capitalize(), first.upper()]
    return uniq(types)


def axis_names(catalog):
    names = [s["name"] for s in catalog if s.get("name")]
    extra = [names[0].capitalize()] if names else []
    return uniq([""] + names + extra + ["nope"])


def axis_regions(catalog):
    regions = []
    for s in catalog:
        for e in s.get("endpoints") or []:
            regions += [e.get("region_id"), e.get("region")]
    regions = [r for r in regions if r]
    extra = [regions[0].lower(), regions[0].upper()] if regions else []
    return uniq([""] + regions + extra + ["Nowhere"])


# ----------------------------------------------------------------- oracle

def ask(sc, urls, type_, name, region, interfaces):
    kw = {"service_type": norm_type(type_)}
    if interfaces is not None:
        kw["interface"] = interfaces
    if name:
        kw["service_name"] = name
    if region:
        kw["region_name"] = region
    try:
        url = sc.url_for(**kw)
    except exceptions.EmptyCatalog:
        return EMPTY_CATALOG
    except exceptions.EndpointNotFound:
        return NOT_FOUND
    except ValueError as e:
        if "Programming error choosing an endpoint" not in str(e):
            raise
        return VALUE_ERROR
    return urls.index(url)


def fixture(name, doc, catalog):
    check_fixture(name, catalog)
    sc = ServiceCatalogV3(catalog)
    urls = uniq(e["url"] for s in catalog for e in (s.get("endpoints") or []) if e["url"])
    types, names, regions = axis_types(catalog), axis_names(catalog), axis_regions(catalog)
    want = [[[[ask(sc, urls, t, n, r, i) for i in INTERFACES] for r in regions] for n in names] for t in types]
    return {"name": name, "doc": doc, "catalog": catalog, "urls": urls,
            "types": types, "names": names, "regions": regions, "want": want}


# ----------------------------------------------------------------- output

def dump(fixtures):
    """JSON with one catalog service and one (type, name) row of answers a line."""
    j = lambda v: json.dumps(v, ensure_ascii=False)
    c = lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    total = sum(len(f["types"]) * len(f["names"]) * len(f["regions"]) * len(INTERFACES) for f in fixtures)
    head = {
        "comment": "Generated by scripts/catalog-oracle/gen.py; do not edit. want[type][name][region][interfaces] "
                   "is an index into urls, or -1 EndpointNotFound, -2 keystoneauth1's ValueError "
                   "(found nothing), -3 EmptyCatalog. Underscore types were asked of keystoneauth1 hyphenated.",
        "keystoneauth1": importlib.metadata.version("keystoneauth1"),
        "os_service_types": importlib.metadata.version("os-service-types"),
        "service_types_version": TYPES.version,
        "forward": TYPES.forward,
        "lookups": total,
        "interfaces": INTERFACES,
    }
    lines = ["{"]
    for k, v in head.items():
        lines.append(" %s: %s," % (j(k), j(v)))
    lines.append(' "fixtures": [')
    for fi, f in enumerate(fixtures):
        lines.append("  {")
        for k in ["name", "doc", "urls", "types", "names", "regions"]:
            lines.append("   %s: %s," % (j(k), j(f[k])))
        lines.append('   "catalog": [')
        lines.append(",\n".join("    " + j(s) for s in f["catalog"]))
        lines.append("   ],")
        lines.append('   "want": [')
        rows = ["    [" + ", ".join(c(per_name) for per_name in per_type) + "]" for per_type in f["want"]]
        lines.append(",\n".join(rows))
        lines.append("   ]")
        lines.append("  }" + ("," if fi < len(fixtures) - 1 else ""))
    lines.append(" ]")
    lines.append("}")
    return "\n".join(lines) + "\n", total


def main():
    fixtures = [fixture(*f) for f in list(captures()) + list(synthetic())]
    text, total = dump(fixtures)
    json.loads(text)  # well-formed
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write(text)
    print("%s: %d fixtures, %d lookups, %d bytes" % (os.path.relpath(OUT, ROOT), len(fixtures), total, len(text)))


if __name__ == "__main__":
    main()
