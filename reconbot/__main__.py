from reconbot.cli import main

raise SystemExit(main())
