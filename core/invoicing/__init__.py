"""Where invoices come from: files now, invoicing systems (Számlázz.hu, Billingo, Fakturownia) later."""
