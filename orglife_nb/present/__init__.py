"""What people see: the lowest floor that forms, training, reports, documents and the served pages share.

``values`` decides what a stored value *is* for a reader (missing or present); later rooms here hold escaping,
dates and labels. Nothing here imports another floor of the package.
"""
