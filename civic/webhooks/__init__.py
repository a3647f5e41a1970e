"""Webhook delivery of referrals to early-help key workers' case systems, and their calls back to us."""
