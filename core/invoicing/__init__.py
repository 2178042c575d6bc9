"""Where invoices come from: files, invoicing systems (Számlázz.hu, Billingo, Fakturownia) and own systems.

``source`` defines the interface and registry of the systems reconbot calls, ``model`` the values they
speak in; each system is a client module beside its wire format (``billingo`` + ``billingo_wire``,
``fakturownia`` + ``fakturownia_wire``, ``szamlazz`` + ``szamlazz_xml``); ``own_system`` reads the
webhooks of a shop's own system, ``csv_file`` invoice files, ``sales`` reported sales.
"""
