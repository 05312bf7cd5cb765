"""Webhooks in: the public endpoint (`views`), the durable inbox it writes (`inbox`), the worker that
reads the notified orders (`drain`), and what polling finds that no notification announced (`missed`)."""
