import sys

from fedchirp.cli import main

sys.exit(main())
