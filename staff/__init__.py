"""The staff side, beside the visitor flows (``handlers``): the Telegram staff commands, the
ticket actions shared with the web desk (``staff.desk``), reminders and the IKM report."""
