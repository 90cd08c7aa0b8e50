#!/usr/bin/python3
"""Resolve ksauth's configuration cases with openstacksdk: the goldens.

For every testdata/config/cases/<name>/case.json this runs, in a fresh
interpreter, what a user of openstacksdk would run:

    openstack.config.OpenStackConfig().get_one(cloud, region_name=..., ...)

with os.environ replaced by the case's environment, HOME and
XDG_CONFIG_HOME pointing into the case directory (home/ and xdg/), the case
directory as the working directory (so that ./clouds.yaml is found) and
/etc left out of the search path. It writes what openstacksdk resolved to
<name>/expected.json: the cloud and region, auth_type, auth_url and every
auth field, interface, verify / cacert / cert / key, api_timeout, and the
body of the POST /v3/auth/tokens keystoneauth1 would send (built offline:
the request is captured before anything goes on the wire). A case that
openstacksdk refuses gets "error": true and the message, for reference.

Each case runs in a temporary copy of its directory, in which "${CASE}"
(in case.json and in every file) is that copy's path and "${PKI}" the
absolute path of testdata/config/pki; the goldens hold the placeholders,
not the paths, and the Go test makes the same copy.

case.json:

    {
      "description": "what the case shows",
      "cloud": "",                 # get_one(cloud) / ConfigOptions.Cloud
      "region": "",                # get_one(region_name=) / ConfigOptions.Region
      "env": {"OS_...": "..."},    # the whole environment
      "settings": {"key": "..."},  # explicit values, clouds.yaml key names: auth
                                   # keys go to get_one(auth={...}), the others
                                   # to get_one(key=...); ConfigOptions.Settings
      "differences": [{"field": "...", "ksauth": ..., "reason": "..."}]
                                   # read by the Go test only
    }

Usage: /usr/bin/python3 testdata/config/oracle.py [case ...]
(Debian's python3-openstacksdk 0.101.0 and python3-keystoneauth1 5.0.0.)
Run through testdata/config/regenerate.sh.
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, 'cases')
PKI = os.path.join(HERE, 'pki')
CASE_VAR, PKI_VAR = '${CASE}', '${PKI}'

# Keys of the auth section; every other setting is a top-level key.
AUTH_KEYS = {
    'auth_url', 'username', 'user_id', 'password', 'user_domain_name',
    'user_domain_id', 'project_name', 'project_id', 'project_domain_name',
    'project_domain_id', 'domain_name', 'domain_id', 'default_domain',
    'default_domain_id', 'default_domain_name', 'system_scope', 'trust_id',
    'application_credential_id', 'application_credential_name',
    'application_credential_secret', 'token', 'passcode',
}


def expand(value, case_dir):
    """Replace the placeholders by paths, in strings, lists and dicts."""
    if isinstance(value, str):
        return value.replace(CASE_VAR, case_dir).replace(PKI_VAR, PKI)
    if isinstance(value, list):
        return [expand(v, case_dir) for v in value]
    if isinstance(value, dict):
        return {k: expand(v, case_dir) for k, v in value.items()}
    return value


def unexpand(value, case_dir):
    """The inverse of expand, so that goldens hold no machine paths."""
    if isinstance(value, str):
        return value.replace(case_dir, CASE_VAR).replace(PKI, PKI_VAR)
    if isinstance(value, (list, tuple)):
        return [unexpand(v, case_dir) for v in value]
    if isinstance(value, dict):
        return {k: unexpand(v, case_dir) for k, v in value.items()}
    return value


def case_env(case, case_dir):
    """The whole environment of a case: its variables, HOME and XDG."""
    env = {
        'HOME': os.path.join(case_dir, 'home'),
        'XDG_CONFIG_HOME': os.path.join(case_dir, 'xdg'),
        'XDG_CONFIG_DIRS': os.path.join(case_dir, 'xdg-dirs'),
        'XDG_CACHE_HOME': os.path.join(case_dir, 'cache'),
        'PYTHONDONTWRITEBYTECODE': '1',
    }
    env.update(case.get('env', {}))
    return env


class Captured(Exception):
    """Raised by CaptureSession.post with the body keystoneauth1 built."""

    def __init__(self, url, body):
        super().__init__(url)
        self.url = url
        self.body = body


class CaptureSession:
    """Stands in for a keystoneauth1 Session: captures the login request."""

    def post(self, url, json=None, **kwargs):
        raise Captured(url, json)


def login_request(plugin, auth_url):
    """The auth body keystoneauth1 would POST, built without a network.

    A generic plugin (password, token) turns into its v3 plugin as after a
    discovery that found v3 at auth_url.
    """
    from keystoneauth1.identity.generic import base as generic
    if isinstance(plugin, generic.BaseGenericPlugin):
        plugin = plugin.create_plugin(None, (3, 0), auth_url)
    try:
        plugin.get_auth_ref(CaptureSession())
    except Captured as c:
        return c.body['auth'], None
    except Exception as e:  # noqa: BLE001 - recorded, not hidden
        return None, '%s: %s' % (type(e).__name__, e)
    return None, 'no request was made'


def resolve_one(case_dir):
    """Runs in the case's interpreter: resolve and print the result."""
    import warnings
    warnings.simplefilter('ignore')
    with open(os.path.join(case_dir, 'case.json')) as f:
        case = json.load(f)

    from openstack.config import loader
    # /etc must not influence the result: drop the site directories.
    for name in ('CONFIG_FILES', 'SECURE_FILES', 'VENDOR_FILES'):
        files = getattr(loader, name)
        files[:] = [p for p in files if not p.startswith('/etc/')]

    settings = case.get('settings', {})
    kwargs = {}
    auth = {k: v for k, v in settings.items() if k in AUTH_KEYS}
    if auth:
        kwargs['auth'] = auth
    kwargs.update({k: v for k, v in settings.items() if k not in AUTH_KEYS})
    if case.get('region'):
        kwargs['region_name'] = case['region']

    out = {}
    try:
        config = loader.OpenStackConfig()
        region = config.get_one(case.get('cloud') or None, **kwargs)
    except Exception as e:  # noqa: BLE001 - the error is the result
        out['error'] = True
        out['message'] = '%s: %s' % (type(e).__name__, e)
        return unexpand(out, case_dir)

    c = region.config
    verify, cert = region.get_requests_verify_args()
    out.update({
        'error': False,
        'cloud': region.name,
        'region_name': region.region_name or '',
        'auth_type': c.get('auth_type'),
        'auth_url': c['auth'].get('auth_url'),
        'auth': {k: v for k, v in c['auth'].items() if v not in (None, '')},
        'interface': c.get('interface'),
        'verify': verify,
        'cacert': c.get('cacert'),
        'cert': c.get('cert'),
        'key': c.get('key'),
        'api_timeout': c.get('api_timeout'),
    })
    request, err = login_request(region.get_auth(), c['auth'].get('auth_url'))
    if err:
        out['request_error'] = err
    else:
        out['request'] = request
    return unexpand(out, case_dir)


def copy_case(src, dst):
    """Copy a case directory, placeholders expanded (the Go test does too)."""
    for root, _dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for name in files:
            if rel == '.' and name == 'expected.json':
                continue
            with open(os.path.join(root, name)) as f:
                text = f.read()
            with open(os.path.join(dst, rel, name), 'w') as f:
                f.write(expand(text, dst))


def run_case(name):
    """Resolve one case in a fresh interpreter and write expected.json."""
    with tempfile.TemporaryDirectory(prefix='ksauth-oracle-') as tmp:
        case_dir = os.path.join(os.path.realpath(tmp), 'case')
        copy_case(os.path.join(CASES, name), case_dir)
        with open(os.path.join(case_dir, 'case.json')) as f:
            case = json.load(f)
        proc = subprocess.run(
            [sys.executable, os.path.abspath(__file__), '--one', case_dir],
            cwd=case_dir, env=case_env(case, case_dir),
            capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit('%s: oracle failed:\n%s' % (name, proc.stderr))
    result = json.loads(proc.stdout)
    import openstack.version
    from importlib import metadata
    result['openstacksdk'] = openstack.version.__version__
    result['keystoneauth1'] = metadata.version('keystoneauth1')
    with open(os.path.join(CASES, name, 'expected.json'), 'w') as f:
        json.dump(result, f, indent=2, sort_keys=True)
        f.write('\n')
    return result


def main(argv):
    if len(argv) == 3 and argv[1] == '--one':
        json.dump(resolve_one(argv[2]), sys.stdout, sort_keys=True)
        return
    names = argv[1:] or sorted(
        d for d in os.listdir(CASES)
        if os.path.exists(os.path.join(CASES, d, 'case.json')))
    for name in names:
        r = run_case(name)
        status = 'error' if r['error'] else r.get('request_error', 'ok')
        print('%-40s %s' % (name, status))
    print('%d cases' % len(names))


if __name__ == '__main__':
    main(sys.argv)
