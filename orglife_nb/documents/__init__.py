"""Word documents of one meeting (会议通知, 会议情况报告, 整改清单, 民主测评表): not reports, so a package of their own.

The work is in ``meeting`` (context and rendering); the names below are its public API.
"""
from .meeting import (BY_KEY, DOCUMENTS, TEMPLATE_DIR, Document, document_context, file_name, meeting_context,
                      render_documents, roster)

__all__ = ["BY_KEY", "DOCUMENTS", "TEMPLATE_DIR", "Document", "document_context", "file_name", "meeting_context",
           "render_documents", "roster"]
