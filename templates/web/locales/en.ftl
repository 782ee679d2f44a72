# The pages' messages in English (Fluent, https://projectfluent.org). Every key is also in ja.ftl.

## templates/web/preferences.hbs
undo-receive-it-again = Undo: receive it again
mail-to-this-address-is-stopped = Mail to this address is stopped. To receive it again, please contact us at { $contact }.
stop-all-newsletters = Stop all newsletters

## templates/web/staff/admin-config.hbs
active-configuration = Active configuration
secrets-signing-keys-the-smtp-password = Secrets (signing keys, the SMTP password, the database password) are masked.

## templates/web/staff/admin-tokens.hbs
api-tokens = API tokens
the-new-token-copy-it-now = The new token. Copy it now: it is shown only this once.
tokens-their-secrets-are-not-kept = Tokens (their secrets are not kept)
user = User
name = Name
created = Created
expires = Expires
last-used = Last used
revoked = Revoked
create-a-token = Create a token
for-the-user-address = For the user (address)
name-what-it-is-for = Name (what it is for)
expires-after-days-empty-never = Expires after (days, empty: never)
create = Create

## templates/web/staff/admin-users.hbs
users = Users
accounts-and-roles = Accounts and roles
address = Address
role = Role
state = State
created-2 = Created
add-a-user = Add a user
password-12-characters-or-more-not = Password (12 characters or more, not a common one)
add = Add

## templates/web/staff/audit-actions.hbs
staff-actions = Staff actions
actor-address-or-name = Actor (address or name)
action-e-g-campaign-pause = Action (e.g. campaign.pause)
from-tokyo-date = From (Tokyo date)
to-tokyo-date-included = To (Tokyo date, included)
filter = Filter
download-as-csv-excel = Download as CSV (Excel)
changes-and-who-made-them-oldest = Changes and who made them, oldest first
when = When
by = By
client = Client
action = Action
target = Target
details = Details
pages = Pages
previous = Previous
next = Next

## templates/web/staff/audit-entry.hbs
recipient = Recipient
outcome = Outcome
template = Template
content-hash-sha-256 = Content hash (SHA-256)
sent-by-instance = Sent by instance
campaign-run = Campaign / run
theme-duty-channel = Theme, duty, channel
delivery-attempt = Delivery, attempt
every-attempt-of-this-delivery = Every attempt of this delivery
attempt = Attempt
reply = Reply
instance = Instance

## templates/web/staff/audit-log.hbs
send-log = Send log
campaign-id = Campaign id
theme = Theme
log-filter-channel = Channel (newsletter, …)
outcome-sent-deferred-failed-skipped = Outcome (sent, deferred, failed, skipped)
mail-attempts-oldest-first = Mail attempts, oldest first
campaign = Campaign
channel = Channel

## templates/web/staff/campaign-confirm.hbs
now = Now
recipients = Recipients
go-back-without-doing-it = Go back without doing it

## templates/web/staff/campaign-form.hbs
please-correct-the-fields-marked-below = Please correct the fields marked below.
theme-and-channel-stay-as-they = Theme and channel stay as they are; for others, create a new campaign.
choose = Choose…
channel-2 = Channel
plan-duty-served = Plan duty served
choose-a-theme-and-channel-then = (choose a theme and channel, then press Preview)
every-duty-of-the-plan = Every duty of the plan
channels = Channels
duty = Duty
internal-name-staff-only = Internal name (staff only)
title-members-see-empty-the-themes = Title members see (empty: the theme's)
tosho-shimbun-issue-e-g-6 = Tosho Shimbun issue (e.g. 6月1日号; Tosho Shimbun only)
schedule-zone = Schedule ({ $zone })
repeating-cron = Repeating (cron)
preset = Preset
none = None
cron-minute-hour-day-month-weekday = Cron: minute hour day month weekday
once = Once
date-and-time-tokyo = Date and time (Tokyo)
next-five-firings-tokyo-time = Next five firings (Tokyo time)
preview = Preview
save = Save
create-the-campaign = Create the campaign

## templates/web/staff/campaign.hbs
campaigns = Campaigns
theme-channel = Theme / channel
plan-duty = Plan duty
title-for-members = Title for members
the-themes = (the theme's)
issue = Issue
schedule = Schedule
recipients-now = Recipients now
next-firings-tokyo-time = Next firings (Tokyo time)
none-2 = None.
actions = Actions
edit = Edit…
pause = Pause…
resume = Resume…
send-now = Send now…
cancel = Cancel…
send-a-test-to-me-test = Send a test
as-the-member-with-address-empty = As the member with address (empty: a sample)
show = Show
this-member-does-not-receive-this = This member does not receive this theme: the mail below is what they would get if they joined it; no run sends it to them.
subject = Subject:
the-mails-html-part = The mail's HTML part
text-part = Text part
runs = Runs
run-number = Run { $number }
started = Started
finished = finished
recipients-2 = Recipients
sent = Sent
waiting = Waiting
failed = Failed
skipped = Skipped
no-run-yet = No run yet.

## templates/web/staff/campaigns.hbs
campaigns-2 = Campaigns
new-campaign = New campaign
any = Any
fiscal-year = Fiscal year
next-firings-tokyo = Next firings (Tokyo)
fy = FY
no-campaign-matches = No campaign matches.

## templates/web/staff/dashboard.hbs
dashboard = Dashboard
runs-in-progress = Runs in progress
progress = Progress
no-run-is-sending = No run is sending.
finished-in-the-last-finished-hours = Finished in the last { $finished_hours } hours
runs-finished-in-the-last-finished = Runs finished in the last { $finished_hours } hours, newest first
finished-tokyo = Finished (Tokyo)
finished-2 = Finished
no-run-finished-in-the-last = No run finished in the last { $finished_hours } hours.
figures-of-year = Figures of { $year }
members-and-mails-per-theme = Members and mails per theme
members = Members
this-month = This month
this-year = This year
mails-per-theme-and-month = Mails per theme and month
the-charts-numbers = The chart's numbers
mails-sent-per-theme-and-month = Mails sent per theme and month, { $year } (the chart's numbers)
this-month-2 = {" "}(this month)
total = Total
due-in-the-next-days-days = Due in the next { $days } days
when-tokyo = When (Tokyo)
nothing-is-due = Nothing is due.
paused-campaigns = Paused campaigns
failures-of-the-last-failure-days = Failures of the last { $failure_days } days, by reply
reply-of-the-mail-server = Reply of the mail server
attempts = Attempts
last = Last
no-failures = No failures.
live-instances = Live instances
program-host-process-pid-version-version = { $program }: { $host } (process { $pid }, version { $version }), since { $started }, holding { $holding }
no-instance-is-live-nothing-is = No instance is live: nothing is being sent.

## templates/web/staff/layout.hbs
skip-to-content = Skip to content
menu = Menu
paren-open = {" "}(
paren-close = )
sign-out = Sign out
signed-in-as = { $email } ({ $role })

## templates/web/staff/members-advisors.hbs
business-advisors = Business advisors
advisors-and-whether-they-receive-handouts = Advisors and whether they receive handouts
name-2 = Name
branch = Branch
change = Change

## templates/web/staff/members-import.hbs
import-members-from-a-csv-file = Import members from a CSV file
imported-created-new-updated-updated-unchanged = Imported: { $created } new, { $updated } updated, { $unchanged } unchanged, { $kept } kept unsubscribed.
check-of-name = Check of { $name }
valid-rows-can-be-imported-rejected = { $valid } rows can be imported; { $rejected_count } rows are refused. Nothing has been imported yet.
refused-rows-fix-them-and-upload = Refused rows: fix them and upload again
line = Line
field-and-problem = Field and problem
import-these-valid-rows = Import these { $valid } rows
csv-file-utf-8-or-shift = CSV file (UTF-8 or Shift_JIS, up to 10 MB)
check-the-file = Check the file
import-columns = Columns:
import-same-as-command = The same file as for the command
import-checked-first = The file is checked first; nothing is imported until you confirm.

## templates/web/staff/members-list.hbs
members-2 = Members
import-a-csv-file = Import a CSV file
address-company-or-contact-name = Address, company or contact name
search = Search
members-found = Members found
company = Company
contact = Contact
next-page = Next page

## templates/web/staff/members-notice.hbs
back = Back

## templates/web/staff/members-reason.hbs
reason-required = Reason (required)

## templates/web/staff/members-show.hbs
themes = Themes
staff-actions-2 = Staff actions
unsubscribe = Unsubscribe
all-themes = All themes
unsubscribe-2 = Unsubscribe
lift-the-suppression = Lift the suppression
lift = Lift
suppress-stop-all-mail = Suppress (stop all mail)
suppress = Suppress
history = History
source = Source
reason = Reason
actions-on-this-address = Actions on this address
mail-sent-to-this-member = Mail sent to this member
all-mail-in-the-send-log = All mail in the send log

## templates/web/staff/message.hbs
back-to-campaigns = Back to campaigns

## templates/web/leave-confirm.hbs, left.hbs, preferences.hbs
leave-title = Stop receiving “{ $theme }”?
leave-explained = { $email } will no longer receive the Chamber's e-mail newsletter on this theme. Other themes you chose are not affected.
leave-button = Unsubscribe
leave-nothing-until-pressed = Nothing changes until you press the button.
left-title = You have been unsubscribed
left-already = { $email } had already left “{ $theme }”. Nothing was changed.
left-done = { $email } will no longer receive the newsletter on “{ $theme }”. A mail already on its way may still arrive.
left-undo-or-choose = Undo, or choose your themes
preferences-title = Your newsletter themes
greeting-company-name = { $name }, { $company }
greeting-name = { $name }
greeting-company = { $company }
theme-then = { $title } —{" "}
receiving = receiving
not-receiving = not receiving
theme-stop = Stop
theme-receive = Receive

## templates/web/staff/admin-tokens.hbs
revoke = Revoke
no-token = No token.

## templates/web/staff/admin-users.hbs
role-of-email = Role of { $email }
set = Set
active = active
disable = Disable
disabled = disabled
enable = Enable

## templates/web/staff/audit-actions.hbs
no-rows = No rows.

## templates/web/staff/members-advisors.hbs
inactive = inactive
deactivate = Deactivate
activate = Activate
no-advisor = No advisor.

## templates/web/staff/members-list.hbs
no-member-found = No member found.

## templates/web/staff/members-show.hbs
receives = receives
does-not-receive = does not receive
no-mail-yet = No mail yet.

## src/web/staff/campaigns.rs
scheduled = Scheduled
paused = Paused
cancelled = Cancelled
finished-3 = Finished
newsletter = Newsletter
tosho-shimbun = Tosho Shimbun
advisor-handout = Advisor handout
notice = Notice
not-found = Not found.
try-again-later = Try again later.

## src/web/staff/members.rs
member = Member

## src/web/staff/audit.rs
use-yyyy-mm-dd = Use YYYY-MM-DD.
give-a-number = Give a number.
mail-record = Mail record

## src/web/staff/dashboard.rs
serve = serve
send-due = send-due

## src/web/staff/mod.rs
admin = admin
staff = staff
auditor = auditor

## src/web/staff/members_import.rs
import-members = Import members
the-file-could-not-be-read = The file could not be read.
please-choose-a-csv-file = Please choose a CSV file.
the-checked-file-is-no-longer = The checked file is no longer kept. Please upload it again.
nothing-was-imported = Nothing was imported.

## src/web/staff/admin.rs
give-1-to-3650-days = Give 1 to 3650 days.
configuration = Configuration

## src/web/staff/dashboard/figures.rs
mails-this-month = Mails this month
mails-this-fiscal-year = Mails this fiscal year
failures-this-fiscal-year = Failures this fiscal year
see-the-send-log = See the send log
for-each-theme-the-mails-sent = For each theme, the mails sent in each month from April to March, as bars with their numbers, all on one scale. The table below gives the same numbers.

## src/web/staff/campaigns/edit.rs
a-cancelled-or-finished-campaign-cannot = A cancelled or finished campaign cannot be edited.

## src/web/staff/campaigns/actions.rs
pause-2 = Pause
resume-2 = Resume
cancel-2 = Cancel
send-now-2 = Send now
paused-2 = Paused.
resumed = Resumed.
cancelled-2 = Cancelled.
the-run-has-started = The run has started.
a-run-for-this-instant-exists = A run for this instant exists already.
the-changes-are-saved = The changes are saved.
nothing-was-changed = Nothing was changed.
the-test-mail-was-sent-to = The test mail was sent; its subject starts with [テスト] and its links change nothing.
the-preview-failed = The preview failed

## src/web/staff/campaigns/form.rs
edit-the-campaign = Edit the campaign
new-campaign-2 = New campaign

## src/web/staff/mod.rs (the menu)
menu-dashboard = Dashboard
menu-campaigns = Campaigns
menu-members = Members
menu-advisors = Advisors
menu-send-log = Send log
menu-staff-actions = Staff actions
menu-users = Users
menu-api-tokens = API tokens
menu-configuration = Configuration

## Names of stored states and kinds ({{t "kind" value}} and Lang::label)
channel-newsletter = Newsletter
channel-tosho-shimbun = Tosho Shimbun
channel-advisor-handout = Advisor handout
campaign-state-scheduled = Scheduled
campaign-state-paused = Paused
campaign-state-cancelled = Cancelled
campaign-state-finished = Finished
run-status-sending = Sending
run-status-done = Done
trigger-schedule = On schedule
trigger-catch-up = Caught up late
trigger-manual = Sent now by staff
outcome-sent = Sent
outcome-deferred = Deferred
outcome-failed = Failed
outcome-skipped = Skipped
member-status-active = Active
member-status-unsubscribed = Left everything
member-status-suppressed = Suppressed
member-event-created = Added
member-event-updated = Updated
member-event-subscribed = Joined the theme
member-event-unsubscribed = Left
member-event-resubscribed = Came back
member-event-suppressed = Suppressed
member-event-unsuppressed = Suppression lifted
member-source-import = CSV import
member-source-staff = Staff
member-source-member = The member
member-source-smtp = Mail server
role-admin = Administrator
role-staff = Staff
role-auditor = Auditor

## Dates (src/web/staff/kit.rs)
weekdays = Mon,Tue,Wed,Thu,Fri,Sat,Sun

## Why a campaign is in its state (src/web/staff/campaigns.rs)
reason-paused-by-staff = paused by staff
reason-cancelled-by-staff = cancelled by staff
reason-no-firing-left = no firing time is left inside the campaign's dates
reason-server-refuses-sending = paused: the mail server refuses the sending itself (not one recipient): { $reply }
reason-does-not-render = held: the mail cannot be composed: { $error }
reason-failure-rate = paused automatically: { $failed } of { $done } mails of run { $run } failed ({ $rate } > { $limit })

## A request the stored state refuses, and errors the pages do not word one by one (src/web/said.rs)
refused-no-campaign = There is no campaign { $id }.
refused-no-run = There is no run { $id }.
refused-no-member = There is no member { $who }.
refused-no-advisor = There is no advisor { $who }.
refused-no-token = There is no API token { $id }.
refused-no-log-record = There is no send-log record { $id }.
refused-not-sendable = This campaign is { $state }, so it cannot be sent now. Only a campaign that is { $scheduled } can be.
refused-not-editable = This campaign is { $state }, so it cannot be edited. Only a campaign that is { $scheduled } or { $paused } can be.
refused-ended-while-edited = The campaign ended while it was being edited. Nothing was changed.
refused-not-by-hand = A campaign cannot be made { $state } by hand.
refused-stays-paused = The mail cannot be composed, so the campaign stays paused. Fix the template, then resume. (Details: { $error })
refused-cannot-become = This campaign is { $state }, so it cannot become { $to }.
refused-not-suppressed = { $who } is not suppressed.
refused-account-exists = There already is an account for { $who }.
said-input = The request could not be accepted. (Details: { $detail })
said-config = The configuration is incomplete. Please ask an administrator. (Details: { $detail })
said-conflict = This cannot be done in the current state.
said-forbidden = You may not do this.
said-mail-server = The mail server cannot be reached. Please try again later.

## The confirmation of a move (src/web/staff/campaigns/actions.rs, templates/web/staff/campaign-confirm.hbs)
move-on-campaign = { $move }: { $name }
colon = {": "}
consequence-pause = The schedule stops: none of this campaign's { $audience } recipients gets mail until it is resumed; mail waiting to be sent waits too.
consequence-resume = The schedule resumes: the next firing goes to { $audience } recipients. Firings missed while paused are not sent.
consequence-cancel = The campaign is cancelled for good: none of its { $audience } recipients gets any more of it, mail waiting included.
consequence-send-now = A run starts now, outside the schedule, to { $audience } recipients.

## A field's label and what is wrong with it (src/web/explain.rs)
field-name = internal name
field-title = title
field-issue = issue
field-theme = theme
field-channel = channel
field-schedule = schedule
field-at = date and time
field-cron = cron expression
field-from = first day
field-until = last day
field-since = since
field-to = to
field-status = outcome
field-fiscal-year = fiscal year
field-locale = language
field-reason = reason
field-email = address
field-recipient = recipient
field-query = search term
field-actor = actor
field-action = action
field-target = target
field-password = password
field-role = role
field-token-name = token name
field-expires = days valid
problem-empty = Enter the { $field }.
problem-empty-value = Enter a value.
problem-control = No line breaks or control characters.
problem-too-long = At most { $max } characters ({ $chars } given).
problem-not-an-address = { $given } is not an e-mail address.
problem-too-many = At most { $max } addresses ({ $given } given).
problem-bad-date-time = Enter the date and time, Tokyo time, as 2020-06-01T09:00.
problem-bad-date = Enter the date as 2020-06-01.
problem-bad-cron = The cron expression does not parse. Write five fields, minute hour day month weekday (e.g. 0 9 * * MON#1 is the first Monday of each month at 9:00).
problem-one-schedule = Give either a date and time or a cron expression, not both.
problem-passed = That time has passed.
problem-never-fires-between = This schedule never fires between { $from } and { $until }.
problem-never-fires = This schedule never fires from now on (February 31st, for one, never comes).
problem-issue-for-manuscripts = The issue is for Tosho Shimbun only.
problem-unknown-theme = The plan has no such theme; choose one from the list.
problem-unknown-channel = Choose a channel.
problem-no-duty = The plan names no duty for this theme on this channel.
problem-english-for-newsletters = Only newsletters have English mails.
problem-expires-days = Give 1 to 3650 days.
problem-password-short = At least { $min } characters, please ({ $chars } given).
problem-password-control = No control characters in a password.
problem-password-common = This is one of the most common passwords; choose another.
problem-password-like-address = The password is mostly the address; choose another.
problem-unknown-role = Choose a role.
problem-unknown-outcome = Choose an outcome.
problem-does-not-render = The mail does not render for this audience: { $cause }

## Pages for anyone: sign-in and 403 in the chosen language, a member's broken link in both (templates/web/*.hbs)
sign-in-title = Sign in
sign-in-lead = Staff and auditors: sign in with your registered address and password.
sign-in-email = Address
sign-in-password = Password
sign-in-button = Sign in
sign-in-forgot = If you forgot your password, ask an administrator to reset it.
sign-in-too-many = Too many sign-in attempts. Please wait a little and try again.
sign-in-wrong = The address or the password is not right.
sign-in-control = The address contains characters that cannot be used (line breaks or control characters).
switch-to-other-language = 日本語
forbidden-title = You cannot do this
forbidden-form = The form has expired or was sent from another site. Please open the page again and retry.
forbidden-role = Your role ({ $role }) cannot do this.
forbidden-back = Back to your first page
form-incomplete = The form is incomplete. Please open the page again and retry.
invalid-link-title = Invalid link
invalid-link-expired = This link has expired
invalid-link-expired-text = Links to unsubscribe or change your themes work for a limited time after the mail was sent. Please use the link in a more recent mail, or write to the address above and we will stop the mail for you.
invalid-link-broken = This link cannot be used
invalid-link-broken-text = The link may be incomplete or altered. Please open the link exactly as it appears in the mail, or contact us at the address above.
invalid-link-ask = Get a new link by mail
invalid-link-send = Send
link-requested-title = Settings link
link-requested-sent = A new link is on its way
link-requested-sent-text = If the address you entered is registered, we will send a new link to your newsletter settings within a few minutes. Please also check your spam folder.
link-requested-too-many = Please try again later
link-requested-too-many-text = We received many requests in a short time. Please wait about an hour and try again, or write to the address above.
link-requested-not-an-address = Please check the address
link-requested-not-an-address-text = What you entered does not look like an e-mail address. Please go back and enter it again.
preview-link-title = Preview link
preview-link-heading = This is a preview's link
preview-link-text = This link comes from a mail shown to staff for checking (a preview or a test mail). It does not unsubscribe anyone or change any settings.
preview-link-members = Members: please use the link in a mail you received.
unavailable-title = We cannot handle this right now
unavailable-text = Please try again in a few minutes.

## Figures and a member's own pages (src/web/staff/dashboard/figures.rs, src/web/pages.rs)
fiscal-month = { $month_en }
fiscal-year-name = FY{ $year }
chart-title = Mails sent per theme and month, { $year }
member-title-leave = Unsubscribe
member-title-left = Unsubscribed
member-title-preferences = Your themes
member-done-join-refused = Mail to this address is stopped, so “{ $theme }” was not started.
member-done-joined = You will receive “{ $theme }”.
member-done-left = You will no longer receive “{ $theme }”.
member-done-left-all = You will receive no more newsletters.

## Schedules (src/web/staff/campaigns.rs, campaigns/form.rs)
schedule-once = once, { $at }
schedule-cron = repeating, by the cron expression
preset-first-monday = First Monday of each month, 9:00
preset-every-monday = Every Monday, 9:00
preset-first-of-month = The 1st of each month, 9:00
preset-with-cron = { $name } ({ $cron })
list-separator = {", "}
tokyo-time = Tokyo time

## The action log as sentences (src/web/staff/sentences.rs)
actor-kind-operator = An operator at the command line
actor-kind-user = A user
actor-kind-member = The member
actor-kind-smtp = The mail server's answer
actor-kind-scheduler = The scheduler
target-run = run #{ $id }
target-fiscal-year = fiscal year { $year }
action-other = { $who }: { $action } ({ $target })
action-advisor-activate = { $who } resumed handouts to the advisor { $target }
action-advisor-deactivate = { $who } stopped handouts to the advisor { $target }
action-advisors-import = { $who } imported the list of advisors
action-members-import = { $who } imported members from a CSV file
action-plan-import = { $who } loaded the plan of { $target }
action-campaign-create = { $who } created the campaign “{ $target }”
action-campaign-edit = { $who } edited the campaign “{ $target }”
action-campaign-pause = { $who } paused the campaign “{ $target }”
action-campaign-resume = { $who } resumed the campaign “{ $target }”
action-campaign-cancel = { $who } cancelled the campaign “{ $target }”
action-campaign-finish = { $who } finished the campaign “{ $target }” (no firing left)
action-campaign-send-now = { $who } sent the campaign “{ $target }” now
action-campaign-send-test = { $who } sent a test mail of the campaign “{ $target }”
action-campaign-preview-as-member = { $who } looked at the mail of “{ $target }” as a member receives it
action-run-retry = { $who } retried the failed mail of { $target }
action-member-unsubscribe = { $who } stopped mail to { $target }
action-member-join = { $who } started mail to { $target } again
action-member-suppress = { $who } suppressed all mail to { $target }
action-member-erase = { $who } erased a member's personal data ({ $target })
action-audit-retention = { $who } replaced personal data past its retention period with pseudonyms
action-member-unsuppress = { $who } lifted the suppression of { $target }
action-member-link-mailed = { $who } asked for a new link: it was mailed to { $target }
action-token-create = { $who } created an API token ({ $target })
action-token-revoke = { $who } revoked an API token ({ $target })
action-user-add = { $who } added the user { $target }
action-user-disable = { $who } disabled the user { $target }
action-user-enable = { $who } enabled the user { $target }
action-user-reset-password = { $who } set a new password for { $target }
action-user-set-role = { $who } changed the role of { $target }
action-user-sign-in = { $who } signed in
action-user-sign-in-failed = A sign-in as { $target } failed
action-user-sign-out = { $who } signed out
canonical-record = The record (canonical JSON)
what-happened = What happened

## The configuration page (src/web/staff/config_view.rs)
config-how-to-change = Change a setting in the file named by --config or with its environment variable, then restart the service.
config-sections = Sections
config-value = Value: 
config-empty = (empty)
config-section-database = Database
config-section-schedule = Schedule
config-section-delivery = Delivery
config-section-smtp = Mail server (SMTP)
config-section-web = Web server
config-section-templates = Mail templates
config-section-organization = Organisation
config-section-tosho-shimbun = Tosho Shimbun
config-section-audit = Audit log
config-section-themes = Themes of the plan
config-database-url = Where the data is kept: sqlite://PATH or postgres://USER@HOST:PORT/DB. A password in it is masked.
config-database-max-connections = Connections to the database kept open.
config-schedule-time-zone = Time zone in which times, dates and cron expressions are read.
config-schedule-catch-up = After a downtime: “latest” sends the most recent missed firing once, “skip” sends nothing late.
config-schedule-max-lateness-secs = How late (seconds) a missed firing may still be sent under “latest”.
config-schedule-on-time-secs = How late (seconds) a firing may be and still count as on time.
config-schedule-tick-secs = How often (seconds) the scheduler looks for due firings.
config-delivery-transport = “file” writes each mail into the outbox folder; “smtp” sends through the mail server.
config-delivery-outbox = Folder for mails written by the file transport.
config-delivery-from = The From header of every mail.
config-delivery-message-id-domain = Domain part of the Message-IDs.
config-delivery-batch-size = Mails taken from the queue per step.
config-delivery-max-attempts = Attempts before a mail that keeps failing temporarily is marked failed.
config-delivery-retry-base-secs = First wait (seconds) before a retry; it doubles each time.
config-delivery-retry-max-secs = Longest wait (seconds) before a retry.
config-delivery-lease-secs = How long (seconds) an instance holds the mails it took.
config-delivery-rate-per-second = Mails per second at most; 0 means no limit.
config-delivery-failure-rate-pause = Share of failed mails in a run above which the campaign pauses.
config-delivery-failure-min-sample = Mails a run must have sent before the failure share counts.
config-delivery-shutdown-grace-secs = On stop, how long (seconds) mails in flight may take.
config-delivery-heartbeat-secs = How often (seconds) each process tells the database it is alive.
config-delivery-instance-timeout-secs = A process silent for longer (seconds) is dead and its mails are taken over.
config-delivery-refusal-streak = The same refusal for this many recipients in a row pauses the campaign.
config-smtp-host = The mail server's host name.
config-smtp-port = The mail server's port.
config-smtp-security = Encryption: none, starttls or tls.
config-smtp-username = User name for authentication; empty means none.
config-smtp-password = Password for authentication (masked).
config-smtp-password-file = File holding the password, instead of the variable.
config-smtp-allow-plaintext-auth = Lets a password cross the network unencrypted: only for a relay on this machine.
config-smtp-timeout-secs = Seconds before an SMTP command is abandoned.
config-smtp-pool-size = Connections to the mail server at once.
config-smtp-hello-name = Name sent in EHLO; empty means this machine's name.
config-smtp-idle-check-secs = A connection idle longer (seconds) is checked before it carries a mail.
config-smtp-idle-close-secs = A connection idle longer (seconds) is closed.
config-web-base-url = Public address of the pages, used in the links of every mail.
config-web-link-ttl-days = Days a member's link keeps working after its mail was sent.
config-web-previous-signing-key = The former signing key during a rotation (masked).
config-web-bind = Address and port the web server listens on.
config-web-allow-http = Allows an http:// base address (tests only).
config-web-signing-key = Key that signs members' links (masked).
config-web-signing-key-file = File holding the signing key.
config-web-session-idle-minutes = Minutes without a request after which a session ends.
config-web-session-absolute-hours = Hours after sign-in after which a session ends in any case.
config-web-sign-in-per-minute-per-address = Sign-in attempts per minute for one address.
config-web-sign-in-per-minute-per-client = Sign-in attempts per minute from one client.
config-web-trusted-proxies = Reverse proxies whose X-Forwarded-For is believed.
config-web-header-read-timeout-secs = Seconds within which a request's header must arrive.
config-web-idle-timeout-secs = Seconds after which a silent connection is closed.
config-web-max-connections = Connections served at once.
config-templates-dir = Folder whose mail templates replace the built-in ones file by file; empty means none.
config-organization-name = The organisation's name in every mail.
config-organization-department = The department in every mail.
config-organization-name-en = The name in English mails.
config-organization-department-en = The department in English mails.
config-organization-email = Contact address in every mail.
config-organization-phone = Contact telephone number.
config-organization-website = The organisation's web site.
config-tosho-shimbun-editorial-desk = Addresses of the editorial desk who receive the manuscripts.
config-audit-seal-secs = How often committed send-log rows, actions and consent changes are sealed into the verifiable log under a signed checkpoint, in seconds.
config-audit-witnesses = Addresses that get each day's latest checkpoint by mail (such as the contact at the Metropolitan Government), who can later prove the log was not rewritten.
config-audit-retention-days = Personal data in the logs older than this many days is replaced with pseudonyms when the retention command runs (the log still verifies).

## Test mails (src/web/staff/campaigns/test_mail.rs)
test-mail-to = Test mail to
test-mail-to-note = Up to 10 addresses, separated by commas or spaces. The mail is the sample recipient's, its subject starts with [テスト], and its links change nothing.

## Failures (src/web/staff/kit.rs)
failure-not-found = Not found
failure-invalid = Invalid input
failure-conflict = Cannot do this
failure-forbidden = Not allowed
failure-ours = Temporarily unavailable

## Empty states and what to do next; a run's failures (templates/web/staff/*.hbs)
no-campaign-next-step = Change the filters, or create a new campaign.
failed-mails-of-this-run = Failed mails of this run
no-run-yet-scheduled = It starts by itself at the next planned time. To send it at once, use “Send now”.
no-run-yet-paused = It is paused, so nothing is sent. Once resumed, it sends from the next planned time.
no-run-is-sending-next-step = Planned runs start by themselves on time, and their progress shows here.
see-the-campaigns = See the campaigns
nothing-is-due-next-step = To plan a mailing, create a campaign.
no-instance-next-step = To send, start the service on the server (an administrator’s task).
no-rows-next-step = Change the filters.
show-all-records = Show all records
no-member-found-next-step = Try other words.
all-members = Show all members
no-member-yet-next-step = Import the members' CSV file and they show here.
no-action-on-this-address = No action on this address yet.
no-advisor-next-step = Advisors are imported on the server with this command:
no-token-next-step = To use the API, create a token with the form below.

## CSV import problems (src/web/staff/import_problems.rs)
import-file-refused = The file cannot be imported. { $problems }
import-column-email = email
import-column-company = company
import-column-contact_name = contact_name
import-column-themes = themes
import-column-locale = locale
import-column-name = name
import-column-branch = branch
import-column-named = "{ $name }"
import-quoted = "{ $value }"
import-quoted-cut = "{ $shown }…" ({ $chars } characters)
import-theme-named = "{ $slug }" ({ $name })
import-list-separator = {", "}
import-detail-separator = {"; "}
import-problem-unreadable = This row cannot be read.
import-problem-invalid-utf8 = The text on line { $lines } cannot be read (the file is neither UTF-8 nor Shift_JIS).
import-problem-invalid-utf8-lines = The text on lines { $lines } cannot be read (the file is neither UTF-8 nor Shift_JIS).
import-problem-field-count = Wrong number of columns: { $expected } expected, { $found } found.
import-problem-tab = The { $column } column contains a tab; remove it.
import-problem-line-break = The { $column } column contains a line break; put it on one line.
import-problem-control = The { $column } column contains a control character ({ $code }); remove it.
import-problem-too-long = The { $column } column has { $chars } characters, more than the limit of { $limit }.
import-problem-required = The { $column } column is empty (required).
import-problem-missing-address = The email address is empty (required).
import-problem-invalid-address = The email address { $value } is not well formed ({ $fault }).
import-problem-invalid-address-plain = The email address { $value } is not well formed.
import-address-fault-missing-parts = it has no @
import-address-fault-unbalanced = its angle brackets < > do not match
import-address-fault-invalid-user = the part before @ is not valid
import-address-fault-invalid-domain = the domain after @ is not valid
import-address-fault-invalid-input = it contains characters that are not allowed
import-problem-non-ascii-user = The email address has characters other than ASCII letters, digits and symbols before @; most mail servers cannot deliver to such an address.
import-problem-domain-not-idna = The domain { $domain } of the email address is not a valid internationalised domain name.
import-problem-ascii-form-too-long = With its domain in ASCII form, the email address has { $chars } characters, more than the limit of { $limit }.
import-problem-duplicate-address = The email address { $value } is the same as on line { $first }.
import-problem-no-themes = No theme is given: choose at least one theme, or "*" for all themes.
import-problem-star-mixed = The themes { $value } mix "*" with single themes: give "*" alone, or themes separated by ";".
import-problem-unknown-theme = The plan has no theme { $unknown }. Its themes: { $known }.
import-problem-unknown-themes = The plan has no themes { $unknown }. Its themes: { $known }.
import-problem-no-themes-defined = The plan has no theme { $unknown }; it defines no themes at all.
import-problem-unknown-locale = The language { $value } is not available: use "ja" (Japanese) or "en" (English); empty means Japanese.
import-problem-empty-file = The file is empty. Its first line must be the header { $header }.
import-problem-unreadable-header = The header cannot be read. It must be { $header }.
import-problem-invalid-header = The header { $header } is not right ({ $details }). The columns must be { $expected }, in any order.
import-header-missing = missing: { $columns }
import-header-unexpected = unexpected: { $columns }
import-header-duplicated = named twice: { $columns }
import-header-undecodable = The file seems to be neither UTF-8 nor Shift_JIS.
