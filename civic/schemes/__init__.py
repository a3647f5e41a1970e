"""Neighbourhood support schemes: the directory, starting and running a scheme, moderation, Open Referral.

The package's modules, one concept each:
- `taxonomy`: the fixed categories and audiences (the one place they are listed);
- `models`: Scheme, Membership, NewsPost, Report;
- `access`: who may see and change a scheme;
- `proposals`: propose, edit, approve, decline;
- `organising`: pause, resume, close, co-organisers, news, messages to organisers;
- `directory`: the public search;
- `moderation`: reports, hide and restore, the officers' queue;
- `oruk`: the Open Referral UK feed.
"""
