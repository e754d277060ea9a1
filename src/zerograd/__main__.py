"""``python -m zerograd``."""

import sys

from zerograd.cli import main

sys.exit(main())
