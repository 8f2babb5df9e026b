"""Reports: section builders, charts, HTML/PDF export, the batch runner and Word documents."""
