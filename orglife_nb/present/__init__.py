"""What people see: the lowest floor that forms, training, reports, documents and the served pages share.

``values`` decides what a stored value *is* for a reader (missing or present); ``html`` escapes text and builds the
plain HTML every page shares (``Html``, tables, sections, figures); later rooms here hold dates and labels. Nothing
here imports another floor of the package.
"""
