from jndviewer.cli import main

raise SystemExit(main())
