"""The youth's own health records, fetched per page view from the national services and
never kept: test results (Pasientens prøvesvar), and the log of who looked at them."""
