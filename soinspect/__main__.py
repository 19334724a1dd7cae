import sys

from soinspect.cli.command import main

sys.exit(main())
