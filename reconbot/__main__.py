from reconbot.cli import entry

entry()
