"""Writers for the table files: flat files (delimited, fixed width) and XML with its XSD."""
