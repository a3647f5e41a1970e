"""Neighbourhood support schemes: the directory, starting and running a scheme, moderation, Open Referral.

The package's modules, one concept each:
- `taxonomy`: the fixed categories and audiences (the one place they are listed);
- `models`: Scheme, Membership, NewsPost, Report;
- `access`: who may see and change a scheme;
- `proposals`: propose, edit, approve, decline;
- `organising`: pause, resume, close, co-organisers, news, messages to organisers;
- `directory`: the public search;
- `moderation`: reports, hide and restore, the officers' queue;
- `oruk`: the Open Referral UK feed;
- `running`: the models for running a scheme (consent, checks, help requests, shifts, events, feeds);
- `volunteers`: offering to join with consent, organisers' decisions, roles, leaving;
- `safeguarding`: DBS checks and whether they are current, the lead's e-mail, visiting in pairs;
- `help_requests`: asking for help, matching volunteers, what a volunteer sees;
- `board`: the offers-of-help board;
- `rota`: shifts once or weekly, changed as a whole or single dates moved or cancelled, sign-up within capacity, reminders;
- `lone_working`: "I've arrived" and "I've left" on visits, and the alert when nobody has left;
- `events`: events with replies up to a capacity;
- `calendars` and `ics`: the iCalendar feeds and files;
- `when`: London dates and times.
"""
