from reconbot.cli.main import entry

entry()
