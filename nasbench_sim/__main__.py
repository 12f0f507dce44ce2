"""``python -m nasbench_sim`` runs the command line."""

import sys

from nasbench_sim.cli import main

sys.exit(main())
