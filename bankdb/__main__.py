from bankdb.cli import main

raise SystemExit(main())
