#!/usr/bin/python3
"""Record real Keystone exchanges of credential management as replay fixtures.

Usage: /usr/bin/python3 capture_credentials.py /tmp/ks-cap/fixtures.json

Run it once against a fresh `scripts/keystone/up.sh` on port 5055 (it creates
and deletes application credentials, access rules and EC2 credentials; a
second run on the same instance gets other answers). It writes
`cred_*.json` next to itself, in the format of README.md: the base URL is
http://127.0.0.1:5055, every token is replaced by
`gAAAAAB-placeholder-<name of the exchange that issued it>`, request headers
are exactly those sent, and the response headers are the kept ones.
Python 3 standard library only.
"""

import json
import os
import sys
import urllib.error
import urllib.request

BASE = "http://127.0.0.1:5055"
KEPT_RESPONSE_HEADERS = ["content-type", "x-subject-token", "openstack-auth-receipt",
                         "www-authenticate", "x-openstack-request-id", "vary"]
OUT = os.path.dirname(os.path.abspath(__file__))

# Values chosen by this script (throwaway test values, kept verbatim).
FULL_EXPIRES_AT = "2099-06-30T12:34:56.789123Z"  # microseconds, UTC: what ksauth sends
PAST_EXPIRES_AT = "2020-01-01T00:00:00.000000Z"
GIVEN_SECRET = "cred-given-secret-4711"
UNKNOWN_APPCRED = "0123456789abcdef0123456789abcdef"
UNKNOWN_RULE = "fedcba9876543210fedcba9876543210"
UNKNOWN_EC2 = "00000000000000000000000000000000"

placeholders = {}  # real token -> placeholder
written = []


class Failure(Exception):
    pass


def send(method, path, body=None, headers=None):
    """Sends one request; returns (status, [(header, value)...], raw body)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=dict(headers or {}))
    try:
        resp = urllib.request.urlopen(req, timeout=60)
    except urllib.error.HTTPError as e:
        resp = e
    with resp:
        raw = resp.read()
        return resp.status, list(resp.headers.items()), raw


def record(name, method, path, body=None, token=None, extra=None, want=None):
    """Sends a request with the headers a client sends, writes cred_<name>.json
    and returns (status, parsed response body, response headers)."""
    headers = {}
    if token is not None:
        headers["X-Auth-Token"] = token
    for k, v in (extra or {}).items():
        headers[k] = v
    if body is not None:
        headers["Content-Type"] = "application/json"
    status, resp_headers, raw = send(method, path, body, headers)
    kept = {}
    for k, v in resp_headers:
        if k.lower() in KEPT_RESPONSE_HEADERS:
            kept[k] = v
    ctype = dict((k.lower(), v) for k, v in resp_headers).get("content-type", "")
    if not raw:
        parsed = None
    elif "json" in ctype:
        parsed = json.loads(raw)
    else:
        parsed = raw.decode()
    if status == 201 and path.startswith("/v3/auth/tokens"):
        issued = dict((k.lower(), v) for k, v in resp_headers)["x-subject-token"]
        placeholders[issued] = "gAAAAAB-placeholder-" + name
    if want is not None and status != want:
        raise Failure("%s: %s %s gave %d, want %d: %s" % (name, method, path, status, want, raw[:300]))
    doc = {"name": name,
           "request": {"method": method, "path": path, "headers": headers, "body": body},
           "response": {"status": status, "headers": kept, "body": parsed}}
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    for real, ph in placeholders.items():
        text = text.replace(real, ph)
    if "gAAAAA" in text.replace("gAAAAAB-placeholder-", ""):
        raise Failure("%s: a token was left in the capture" % name)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        f.write(text)
    written.append((name, method, path, status))
    return status, parsed, kept


def token(name, auth):
    """Records an auth POST and returns the real token it issued."""
    record(name, "POST", "/v3/auth/tokens", {"auth": auth}, want=201)
    return [k for k, v in placeholders.items() if v == "gAAAAAB-placeholder-" + name][0]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: capture_credentials.py FIXTURES.json")
    fx = json.load(open(sys.argv[1]))
    if fx["endpoint"] != BASE:
        sys.exit("capture_credentials.py: the Keystone must run at %s (KEYSTONE_PORT=5055), not %s" % (BASE, fx["endpoint"]))
    alice, bob = fx["users"]["alice"]["id"], fx["users"]["bob"]["id"]
    demo, ops = fx["projects"]["demo"]["id"], fx["projects"]["ops"]["id"]
    ac = fx["application_credentials"]["alice"]
    reader = fx["roles"]["reader"]
    apps = "/v3/users/%s/application_credentials" % alice
    rules = "/v3/users/%s/access_rules" % alice
    ec2 = "/v3/users/%s/credentials/OS-EC2" % alice

    # The tokens used below (bodies as ksauth sends them).
    A = token("cred_auth_alice_project", {
        "identity": {"methods": ["password"], "password": {"user": {"id": alice, "password": "alice-secret"}}},
        "scope": {"project": {"id": demo}}})
    AC = token("cred_auth_appcred_alice_ac", {
        "identity": {"methods": ["application_credential"],
                     "application_credential": {"id": ac["id"], "secret": ac["secret"]}}})
    T = token("cred_auth_trust_bob", {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": "bob", "domain": {"name": "acme"}, "password": "bob-secret"}}},
        "scope": {"OS-TRUST:trust": {"id": fx["trusts"]["alice_to_bob"]["id"]}}})
    S = token("cred_auth_admin_system", {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": "admin-secret"}}},
        "scope": {"system": {"all": True}}})

    # Application credentials: creation.
    _, full, _ = record("cred_appcred_create_full", "POST", apps, {"application_credential": {
        "name": "cred-full", "description": "every option but secret and unrestricted",
        "expires_at": FULL_EXPIRES_AT, "roles": [{"name": "member"}],
        "access_rules": [{"service": "compute", "method": "GET", "path": "/v2.1/servers/**"}]}},
        token=A, want=201)
    full = full["application_credential"]
    rule = full["access_rules"][0]["id"]
    record("cred_appcred_create_minimal", "POST", apps, {"application_credential": {"name": "cred-minimal"}},
           token=A, want=201)
    record("cred_appcred_create_secret", "POST", apps, {"application_credential": {
        "name": "cred-given-secret", "secret": GIVEN_SECRET, "roles": [{"id": reader}], "unrestricted": True}},
        token=A, want=201)
    _, byid, _ = record("cred_appcred_create_rule_by_id", "POST", apps, {"application_credential": {
        "name": "cred-rule-by-id", "access_rules": [{"id": rule}]}}, token=A, want=201)
    byid = byid["application_credential"]

    # Reading.
    record("cred_appcred_list", "GET", apps, token=A, want=200)
    record("cred_appcred_list_by_name", "GET", apps + "?name=cred-full", token=A, want=200)
    record("cred_appcred_list_by_name_none", "GET", apps + "?name=no-such-cred", token=A, want=200)
    record("cred_appcred_get", "GET", apps + "/" + full["id"], token=A, want=200)
    record("cred_appcred_get_unknown_404", "GET", apps + "/" + UNKNOWN_APPCRED, token=A, want=404)

    # Refusals.
    record("cred_appcred_create_duplicate_409", "POST", apps,
           {"application_credential": {"name": "cred-minimal"}}, token=A, want=409)
    record("cred_appcred_create_unassigned_role_400", "POST", apps,
           {"application_credential": {"name": "cred-admin", "roles": [{"name": "admin"}]}}, token=A, want=400)
    record("cred_appcred_create_past_expiry_400", "POST", apps,
           {"application_credential": {"name": "cred-past", "expires_at": PAST_EXPIRES_AT}}, token=A, want=400)
    record("cred_appcred_create_other_user_403", "POST", "/v3/users/%s/application_credentials" % bob,
           {"application_credential": {"name": "cred-for-bob"}}, token=A, want=403)
    record("cred_appcred_create_restricted_403", "POST", apps,
           {"application_credential": {"name": "cred-from-appcred"}}, token=AC, want=403)
    record("cred_appcred_delete_restricted_403", "DELETE", apps + "/" + byid["id"], token=AC, want=403)
    record("cred_appcred_list_restricted", "GET", apps, token=AC, want=200)
    record("cred_appcred_list_other_user_restricted_403", "GET", "/v3/users/%s/application_credentials" % bob,
           token=AC, want=403)
    # A trust-scoped token's user is the trustee (bob): ksauth's userID "" is bob.
    record("cred_appcred_list_trust_403", "GET", "/v3/users/%s/application_credentials" % bob, token=T, want=403)
    record("cred_appcred_create_trust_403", "POST", "/v3/users/%s/application_credentials" % bob,
           {"application_credential": {"name": "cred-from-trust"}}, token=T, want=403)
    record("cred_appcred_create_trust_trustor_403", "POST", apps,
           {"application_credential": {"name": "cred-from-trust"}}, token=T, want=403)

    # A token from the credential with an access rule, validated by the admin
    # with and without the header that says the caller knows access rules.
    R = token("cred_auth_appcred_access_rules", {
        "identity": {"methods": ["application_credential"],
                     "application_credential": {"id": full["id"], "secret": full["secret"]}}})
    record("cred_validate_access_rules_token", "GET", "/v3/auth/tokens", token=S,
           extra={"X-Subject-Token": R, "Openstack-Identity-Access-Rules": "1.0"}, want=200)
    record("cred_validate_access_rules_token_no_header_404", "GET", "/v3/auth/tokens", token=S,
           extra={"X-Subject-Token": R}, want=404)

    # Access rules.
    record("cred_access_rules_list", "GET", rules, token=A, want=200)
    record("cred_access_rule_get", "GET", rules + "/" + rule, token=A, want=200)
    record("cred_access_rule_get_unknown_404", "GET", rules + "/" + UNKNOWN_RULE, token=A, want=404)
    record("cred_access_rule_delete_in_use_403", "DELETE", rules + "/" + rule, token=A, want=403)

    # Deletion: the rule stays in use until both credentials using it are gone.
    record("cred_appcred_delete", "DELETE", apps + "/" + full["id"], token=A, want=204)
    record("cred_appcred_delete_again_404", "DELETE", apps + "/" + full["id"], token=A, want=404)
    record("cred_access_rule_delete_still_in_use_403", "DELETE", rules + "/" + rule, token=A, want=403)
    record("cred_appcred_delete_rule_by_id", "DELETE", apps + "/" + byid["id"], token=A, want=204)
    record("cred_access_rule_delete", "DELETE", rules + "/" + rule, token=A, want=204)
    record("cred_access_rule_delete_again_404", "DELETE", rules + "/" + rule, token=A, want=404)

    # EC2 credentials.
    _, cred, _ = record("cred_ec2_create", "POST", ec2, {"tenant_id": demo}, token=A, want=201)
    access = cred["credential"]["access"]
    record("cred_ec2_list", "GET", ec2, token=A, want=200)
    record("cred_ec2_get", "GET", ec2 + "/" + access, token=A, want=200)
    record("cred_ec2_get_unknown_404", "GET", ec2 + "/" + UNKNOWN_EC2, token=A, want=404)
    record("cred_ec2_create_appcred_403", "POST", ec2, {"tenant_id": demo}, token=AC, want=403)
    record("cred_ec2_list_appcred_403", "GET", ec2, token=AC, want=403)
    record("cred_ec2_create_trust_403", "POST", "/v3/users/%s/credentials/OS-EC2" % bob,
           {"tenant_id": demo}, token=T, want=403)
    record("cred_ec2_create_other_user_403", "POST", "/v3/users/%s/credentials/OS-EC2" % bob,
           {"tenant_id": demo}, token=A, want=403)
    record("cred_ec2_delete", "DELETE", ec2 + "/" + access, token=A, want=204)
    record("cred_ec2_delete_again_404", "DELETE", ec2 + "/" + access, token=A, want=404)
    # Keystone (with the deprecated policy defaults in force) does not check
    # that the user has a role on the project.
    record("cred_ec2_create_project_without_role", "POST", ec2, {"tenant_id": ops}, token=A, want=201)

    for name, method, path, status in written:
        print("%-48s %-6s %3d %s" % (name, method, status, path))
    print("full %s (rule %s), rule-by-id %s, ec2 access %s" % (full["id"], rule, byid["id"], access))


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        sys.exit("capture_credentials.py: %s" % e)
