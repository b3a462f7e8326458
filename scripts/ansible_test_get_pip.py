"""Stand-in for ansible-test's pip bootstrap script, whose download host this network cannot
reach: install the interpreter's bundled pip, then let pip fetch what was asked from PyPI.
scripts/lint places it where ansible-test caches the real one."""

import ensurepip
import subprocess
import sys

GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}

ensurepip.bootstrap()
pip_arguments = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + pip_arguments))
