from arclink.cli.main import main

raise SystemExit(main())
