"""pytest setup for the mooncomm backend tests: the tests directory goes on
sys.path so the tests can `import harness`. The tests themselves never
import torch.distributed into the pytest process; every rank is a real
process started by harness.launch() running worker.py."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
