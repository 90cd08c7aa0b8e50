#!/usr/bin/env bash
# Re-runs the openstacksdk oracle over every case in testdata/config/cases
# (or the cases named as arguments) and rewrites their expected.json.
# Needs Debian's python3-openstacksdk (0.101.0) and python3-keystoneauth1
# (5.0.0): apt-get install python3-openstacksdk. No network is used.
# .ci/run does not call this: the goldens are committed; review the diff
# (git diff testdata/config/cases) after a run, then go test -run TestConfigOracle.
set -euo pipefail
cd "$(dirname "$0")"
python=/usr/bin/python3   # Debian's, where python3-openstacksdk lives
if ! "$python" -c 'import openstack.config' 2>/dev/null; then
  echo "regenerate.sh: $python has no openstacksdk (apt-get install python3-openstacksdk)" >&2
  exit 1
fi
exec "$python" oracle.py "$@"
