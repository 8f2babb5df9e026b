"""Reports: section builders, charts, HTML/PDF export and the batch runner (Word documents: orglife_nb.documents)."""
