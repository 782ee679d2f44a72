# The pages' messages in Japanese (Fluent, https://projectfluent.org). Every key is also in en.ftl.

## templates/web/preferences.hbs
undo-receive-it-again = 元に戻す（配信を再開する）
mail-to-this-address-is-stopped = このアドレスへの配信は停止されています。再開をご希望の場合は { $contact } までご連絡ください。
stop-all-newsletters = すべての配信を停止する

## templates/web/staff/admin-config.hbs
active-configuration = 現在の設定
secrets-signing-keys-the-smtp-password = 秘密の値（署名鍵、SMTPパスワード、データベースのパスワード）は伏せています。

## templates/web/staff/admin-tokens.hbs
api-tokens = APIトークン
the-new-token-copy-it-now = 新しいトークンです。今すぐコピーしてください。表示されるのはこの一度だけです。
tokens-their-secrets-are-not-kept = トークン一覧（秘密の値は保存していません）
user = ユーザー
name = 名前
created = 作成
expires = 有効期限
last-used = 最終使用
revoked = 失効
create-a-token = トークンの作成
for-the-user-address = ユーザー（メールアドレス）
name-what-it-is-for = 名前（用途）
expires-after-days-empty-never = 有効日数（空欄：無期限）
create = 作成する

## templates/web/staff/admin-users.hbs
users = ユーザー
accounts-and-roles = アカウントと権限
address = メールアドレス
role = 権限
state = 状態
created-2 = 作成日時
add-a-user = ユーザーの追加
password-12-characters-or-more-not = パスワード（12文字以上、よく使われるものは不可）
add = 追加する

## templates/web/staff/audit-actions.hbs
staff-actions = 操作ログ
actor-address-or-name = 実施者（メールアドレス・名前）
action-e-g-campaign-pause = 操作（campaign.pause など）
from-tokyo-date = 開始日（東京時間）
to-tokyo-date-included = 終了日（東京時間・当日を含む）
filter = 絞り込む
download-as-csv-excel = CSVでダウンロード（Excel用）
changes-and-who-made-them-oldest = 変更と実施者（古い順）
when = 日時
by = 実施者
client = 接続元
action = 操作
target = 対象
details = 内容
pages = ページ
previous = 前へ
next = 次へ

## templates/web/staff/audit-entry.hbs
recipient = 宛先
outcome = 結果
template = テンプレート
content-hash-sha-256 = 内容のハッシュ (SHA-256)
sent-by-instance = 送信したインスタンス
campaign-run = キャンペーン / 実行
theme-duty-channel = テーマ・事業・経路
delivery-attempt = 配信番号・試行
every-attempt-of-this-delivery = この配信のすべての試行
attempt = 試行
reply = 応答
instance = インスタンス

## templates/web/staff/audit-log.hbs
send-log = 送信ログ
campaign-id = キャンペーン番号
theme = テーマ
log-filter-channel = 経路（newsletter など）
outcome-sent-deferred-failed-skipped = 結果（sent, deferred, failed, skipped）
mail-attempts-oldest-first = 送信の試行（古い順）
campaign = キャンペーン
channel = 経路

## templates/web/staff/campaign-confirm.hbs
now = 現在の状態
recipients = 宛先数
go-back-without-doing-it = 何もせずに戻る

## templates/web/staff/campaign-form.hbs
please-correct-the-fields-marked-below = 下の項目を直してください。
theme-and-channel-stay-as-they = テーマと配信経路は変更できません。変える場合は新しいキャンペーンを作成してください。
choose = 選んでください
channel-2 = 配信経路
plan-duty-served = この組み合わせの計画上の事業
choose-a-theme-and-channel-then = （テーマと配信経路を選び「プレビュー」を押すと表示されます）
every-duty-of-the-plan = 計画の事業一覧
channels = 配信経路
duty = 事業
internal-name-staff-only = 管理用の名前（職員のみ表示）
title-members-see-empty-the-themes = 会員に見える題名（空欄ならテーマ名）
tosho-shimbun-issue-e-g-6 = 東商新聞の号（例：6月1日号。東商新聞のみ）
schedule-zone = スケジュール（{ $zone }）
repeating-cron = 繰り返し（cron）
preset = よく使う設定
none = なし
cron-minute-hour-day-month-weekday = cron（分 時 日 月 曜日）
once = 1回だけ
date-and-time-tokyo = 日時（東京時間）
next-five-firings-tokyo-time = 次の5回の配信日時（東京時間）
preview = プレビュー
save = 保存
create-the-campaign = キャンペーンを作成

## templates/web/staff/campaign.hbs
campaigns = キャンペーン一覧
theme-channel = テーマ・配信経路
plan-duty = 計画上の事業
title-for-members = 会員向けの題名
the-themes = （テーマ名）
issue = 号
schedule = スケジュール
recipients-now = 現在の宛先数
next-firings-tokyo-time = 次回以降の配信（東京時間）
none-2 = ありません。
actions = 操作
edit = 編集…
pause = 一時停止…
resume = 再開…
send-now = 今すぐ送信…
cancel = 中止…
send-a-test-to-me-test = テスト送信する
as-the-member-with-address-empty = 会員のメールアドレス（空欄なら見本）
show = 表示
this-member-does-not-receive-this = この会員はこのテーマの配信を受けていません。下のメールは、配信を受けた場合の内容です（実際の配信では送られません）。
subject = 件名：
the-mails-html-part = メール本文（HTML）
text-part = テキスト版
runs = 配信の記録
run-number = 第{ $number }回
started = 開始
finished = 完了
recipients-2 = 宛先
sent = 送信済み
waiting = 送信待ち
failed = 失敗
skipped = 送信せず
no-run-yet = まだ配信していません。

## templates/web/staff/campaigns.hbs
campaigns-2 = キャンペーン
new-campaign = キャンペーンを作成
any = すべて
fiscal-year = 年度
next-firings-tokyo = 次回以降の配信（東京時間）
fy = 年度
no-campaign-matches = 該当するキャンペーンはありません。

## templates/web/staff/dashboard.hbs
dashboard = ダッシュボード
runs-in-progress = 送信中の配信
progress = 進み具合
no-run-is-sending = 送信中の配信はありません。
finished-in-the-last-finished-hours = 過去{ $finished_hours }時間に完了した配信
runs-finished-in-the-last-finished = 過去{ $finished_hours }時間に完了した配信（新しい順）
finished-tokyo = 完了日時（東京）
finished-2 = 完了
no-run-finished-in-the-last = 過去{ $finished_hours }時間に完了した配信はありません。
figures-of-year = { $year }の実績
members-and-mails-per-theme = テーマ別の会員数と送信数
members = 会員数
this-month = 今月の送信
this-year = 今年度の送信
mails-per-theme-and-month = テーマ別・月別の送信数
the-charts-numbers = グラフの数値
mails-sent-per-theme-and-month = { $year }のテーマ別・月別の送信数（グラフの数値）
this-month-2 = （今月）
total = 合計
due-in-the-next-days-days = 今後{ $days }日間の配信予定
when-tokyo = 日時（東京）
nothing-is-due = 予定はありません。
paused-campaigns = 一時停止中のキャンペーン
failures-of-the-last-failure-days = 過去{ $failure_days }日間の送信失敗（応答別）
reply-of-the-mail-server = メールサーバーの応答
attempts = 件数
last = 最新
no-failures = 失敗はありません。
live-instances = 稼働中のインスタンス
program-host-process-pid-version-version = { $program }：{ $host }（プロセス番号 { $pid }、バージョン { $version }）、開始 { $started }、処理中 { $holding }件
no-instance-is-live-nothing-is = 稼働中のインスタンスがありません。送信は行われていません。

## templates/web/staff/layout.hbs
skip-to-content = 本文へ移動
menu = メニュー
paren-open = （
paren-close = ）
sign-out = ログアウト
signed-in-as = { $email }（{ $role }）

## templates/web/staff/members-advisors.hbs
business-advisors = 経営指導員
advisors-and-whether-they-receive-handouts = 経営指導員と配布資料の送信の有無
name-2 = 氏名
branch = 支部
change = 変更

## templates/web/staff/members-import.hbs
import-members-from-a-csv-file = 会員CSVの取り込み
imported-created-new-updated-updated-unchanged = 取り込みました：新規 { $created } 件、更新 { $updated } 件、変更なし { $unchanged } 件、配信停止のまま { $kept } 件。
check-of-name = { $name } の確認結果
valid-rows-can-be-imported-rejected = 取り込める行：{ $valid } 行、誤りのある行：{ $rejected_count } 行。まだ何も取り込んでいません。
refused-rows-fix-them-and-upload = 誤りのある行（修正して再度アップロードしてください）
line = 行
field-and-problem = 項目と内容
import-these-valid-rows = { $valid } 行を取り込む
csv-file-utf-8-or-shift = CSVファイル（UTF-8 または Shift_JIS、10MBまで）
check-the-file = ファイルを確認する
import-columns = 列：
import-same-as-command = コマンドと同じ形式のファイルです：
import-checked-first = まずファイルを確認し、確定するまで何も取り込みません。

## templates/web/staff/members-list.hbs
members-2 = 会員
import-a-csv-file = CSVファイルの取り込み
address-company-or-contact-name = メールアドレス・会社名・担当者名
search = 検索
members-found = 検索結果
company = 会社名
contact = 担当者
next-page = 次のページ

## templates/web/staff/members-notice.hbs
back = 戻る

## templates/web/staff/members-reason.hbs
reason-required = 理由（必須）

## templates/web/staff/members-show.hbs
themes = テーマ
staff-actions-2 = スタッフの操作
unsubscribe = 配信停止
all-themes = すべてのテーマ
unsubscribe-2 = 配信を停止する
lift-the-suppression = 配信抑止の解除
lift = 解除する
suppress-stop-all-mail = 配信抑止（すべての送信を止める）
suppress = 抑止する
history = 変更履歴
source = 経路
reason = 理由
actions-on-this-address = このアドレスへの操作
mail-sent-to-this-member = この会員への送信
all-mail-in-the-send-log = 送信ログですべて見る

## templates/web/staff/message.hbs
back-to-campaigns = キャンペーン一覧へ戻る

## templates/web/leave-confirm.hbs, left.hbs, preferences.hbs
leave-title = 「{ $theme }」の配信を停止しますか
leave-explained = { $email } 宛ての東商メールマガジンのうち、このテーマのお知らせの配信を停止します。ほかにお選びいただいているテーマには影響しません。
leave-button = 配信を停止する
leave-nothing-until-pressed = ボタンを押すまで、配信の設定は変わりません。
left-title = 配信を停止しました
left-already = { $email } 宛ての「{ $theme }」のお知らせは、すでに配信を停止しています。設定は変わっていません。
left-done = { $email } 宛ての「{ $theme }」のお知らせの配信を停止しました。行き違いで、すでに送信済みのメールが届く場合があります。
left-undo-or-choose = 元に戻す・ほかのテーマの配信設定
preferences-title = メールマガジンの配信設定
greeting-company-name = { $company } { $name } 様
greeting-name = { $name } 様
greeting-company = { $company } 様
theme-then = { $title }：
receiving = 配信中
not-receiving = 停止中
theme-stop = 停止する
theme-receive = 受け取る

## templates/web/staff/admin-tokens.hbs
revoke = 失効させる
no-token = トークンはありません。

## templates/web/staff/admin-users.hbs
role-of-email = { $email } の権限
set = 変更
active = 有効
disable = 無効にする
disabled = 無効
enable = 有効にする

## templates/web/staff/audit-actions.hbs
no-rows = 該当する記録はありません。

## templates/web/staff/members-advisors.hbs
inactive = 無効
deactivate = 無効にする
activate = 有効にする
no-advisor = 経営指導員はいません。

## templates/web/staff/members-list.hbs
no-member-found = 該当する会員はいません。

## templates/web/staff/members-show.hbs
receives = 配信中
does-not-receive = 配信なし
no-mail-yet = 送信はまだありません。

## src/web/staff/campaigns.rs
scheduled = 予定どおり配信
paused = 一時停止中
cancelled = 中止
finished-3 = 終了
newsletter = メールマガジン
tosho-shimbun = 東商新聞
advisor-handout = 経営指導員による資料配布
notice = お知らせ
not-found = 見つかりません。
try-again-later = ただいま処理できません。しばらくしてからお試しください。

## src/web/staff/members.rs
member = 会員

## src/web/staff/audit.rs
use-yyyy-mm-dd = YYYY-MM-DD の形式で入力してください。
give-a-number = 番号で入力してください。
mail-record = 送信記録

## src/web/staff/dashboard.rs
serve = 常駐サービス
send-due = 定時送信

## src/web/staff/mod.rs
admin = 管理者
staff = スタッフ
auditor = 監査

## src/web/staff/members_import.rs
import-members = 会員CSVの取り込み
the-file-could-not-be-read = ファイルを読み込めませんでした。
please-choose-a-csv-file = CSVファイルを選んでください。
the-checked-file-is-no-longer = 確認したファイルの保存期限が切れました。もう一度アップロードしてください。
nothing-was-imported = 取り込めませんでした。

## src/web/staff/admin.rs
give-1-to-3650-days = 日数は 1〜3650 の数で入力してください。
configuration = 設定

## src/web/staff/dashboard/figures.rs
mails-this-month = 今月の送信数
mails-this-fiscal-year = 今年度の送信数
failures-this-fiscal-year = 今年度の送信失敗
see-the-send-log = 送信ログで見る
for-each-theme-the-mails-sent = テーマごとに4月から3月までの月別の送信数を棒と数字で示します。すべてのテーマが同じ目盛りです。同じ数字は下の表にもあります。

## src/web/staff/campaigns/edit.rs
a-cancelled-or-finished-campaign-cannot = 中止または終了したキャンペーンは編集できません。

## src/web/staff/campaigns/actions.rs
pause-2 = 一時停止
resume-2 = 再開
cancel-2 = 中止
send-now-2 = 今すぐ送信
paused-2 = 一時停止しました。
resumed = 再開しました。
cancelled-2 = 中止しました。
the-run-has-started = 送信を開始しました。
a-run-for-this-instant-exists = この時刻の送信はすでにあります。
the-changes-are-saved = 変更を保存しました。
nothing-was-changed = 変更はありませんでした。
the-test-mail-was-sent-to = テストメールを送信しました。件名の先頭に［テスト］と付き、メール内のリンクを押しても何も変わりません。
the-preview-failed = プレビューを表示できません

## src/web/staff/campaigns/form.rs
edit-the-campaign = キャンペーンの編集
new-campaign-2 = キャンペーンの作成

## src/web/staff/mod.rs (the menu)
menu-dashboard = ダッシュボード
menu-campaigns = キャンペーン
menu-members = 会員
menu-advisors = 経営指導員
menu-send-log = 送信ログ
menu-staff-actions = 操作ログ
menu-users = ユーザー
menu-api-tokens = APIトークン
menu-configuration = 設定

## Names of stored states and kinds ({{t "kind" value}} and Lang::label)
channel-newsletter = メールマガジン
channel-tosho-shimbun = 東商新聞
channel-advisor-handout = 経営指導員による資料配布
campaign-state-scheduled = 予定どおり配信
campaign-state-paused = 一時停止中
campaign-state-cancelled = 中止
campaign-state-finished = 終了
run-status-sending = 送信中
run-status-done = 完了
trigger-schedule = スケジュールどおり
trigger-catch-up = 遅れて実行
trigger-manual = 手動で送信
outcome-sent = 送信済み
outcome-deferred = 再送待ち
outcome-failed = 送信失敗
outcome-skipped = 送信せず
member-status-active = 配信中
member-status-unsubscribed = 全テーマ停止
member-status-suppressed = 配信停止（抑止）
member-event-created = 登録
member-event-updated = 更新
member-event-subscribed = テーマの配信を開始
member-event-unsubscribed = 配信を停止
member-event-resubscribed = 配信を再開
member-event-suppressed = 抑止
member-event-unsuppressed = 抑止を解除
member-source-import = CSV取り込み
member-source-staff = 職員
member-source-member = 会員本人
member-source-smtp = メールサーバー
role-admin = 管理者
role-staff = スタッフ
role-auditor = 監査

## Dates (src/web/staff/kit.rs)
weekdays = 月,火,水,木,金,土,日

## Why a campaign is in its state (src/web/staff/campaigns.rs)
reason-paused-by-staff = 職員が一時停止しました
reason-cancelled-by-staff = 職員が中止しました
reason-no-firing-left = 配信期間内に配信予定が残っていません
reason-server-refuses-sending = 一時停止：メールサーバーが（特定の宛先ではなく）送信そのものを拒否しています：{ $reply }
reason-does-not-render = 保留：メールを作成できません：{ $error }
reason-failure-rate = 自動で一時停止：配信 { $run } の { $done } 通のうち { $failed } 通が失敗しました（{ $rate } ＞ 上限 { $limit }）

## A request the stored state refuses, and errors the pages do not word one by one (src/web/said.rs)
refused-no-campaign = キャンペーン { $id } は見つかりません。
refused-no-run = 配信 { $id } は見つかりません。
refused-no-member = 会員「{ $who }」は見つかりません。
refused-no-advisor = 経営指導員「{ $who }」は見つかりません。
refused-no-token = APIトークン { $id } は見つかりません。
refused-no-log-record = 送信記録 { $id } は見つかりません。
refused-not-sendable = このキャンペーンは「{ $state }」のため、今すぐ送信することはできません。今すぐ送信できるのは「{ $scheduled }」のキャンペーンだけです。
refused-not-editable = このキャンペーンは「{ $state }」のため、変更できません。変更できるのは「{ $scheduled }」か「{ $paused }」のキャンペーンです。
refused-ended-while-edited = 変更の途中でキャンペーンが終了しました。何も変更していません。
refused-not-by-hand = キャンペーンを手動で「{ $state }」にすることはできません。
refused-stays-paused = メールを作成できないため、一時停止のままです。テンプレートを直してから再開してください。（詳細：{ $error }）
refused-cannot-become = このキャンペーンは「{ $state }」のため、「{ $to }」にはできません。
refused-not-suppressed = { $who } は配信停止されていません。
refused-account-exists = { $who } のアカウントはすでにあります。
said-input = 入力を受け付けられませんでした。（詳細：{ $detail }）
said-config = 設定に不足があります。管理者に連絡してください。（詳細：{ $detail }）
said-conflict = いまの状態では、この操作はできません。
said-forbidden = この操作をする権限がありません。
said-mail-server = メールサーバーに接続できません。しばらくしてからお試しください。

## The confirmation of a move (src/web/staff/campaigns/actions.rs, templates/web/staff/campaign-confirm.hbs)
move-on-campaign = { $move }：{ $name }
colon = ：
consequence-pause = 配信予定を止めます。再開するまで、このキャンペーンの宛先 { $audience } 件にはメールが送られません。送信待ちのメールも止まります。
consequence-resume = 配信予定を再開します。次の配信から宛先 { $audience } 件に送られます。停止中に過ぎた配信は送られません。
consequence-cancel = キャンペーンを中止します。元に戻せません。宛先 { $audience } 件への今後の配信と送信待ちのメールは送られません。
consequence-send-now = 配信予定とは別に、今すぐ宛先 { $audience } 件に送信を始めます。

## A field's label and what is wrong with it (src/web/explain.rs)
field-name = 管理用の名前
field-title = 会員に見える題名
field-issue = 東商新聞の号
field-theme = テーマ
field-channel = 配信経路
field-schedule = スケジュール
field-at = 日時
field-cron = cron式
field-from = 開始日
field-until = 終了日
field-since = この日以降
field-to = この日まで
field-status = 結果
field-fiscal-year = 年度
field-locale = 言語
field-reason = 理由
field-email = メールアドレス
field-recipient = 宛先
field-query = 検索語
field-actor = 操作した人
field-action = 操作
field-target = 対象
field-password = パスワード
field-role = 役割
field-token-name = トークンの名前
field-expires = 有効日数
problem-empty = { $field }を入力してください。
problem-empty-value = 値を入力してください。
problem-control = 改行や制御文字は使えません。
problem-too-long = { $max }文字以内で入力してください（入力は{ $chars }文字）。
problem-not-an-address = 「{ $given }」はメールアドレスの形になっていません。
problem-too-many = 宛先は{ $max }件までです（{ $given }件あります）。
problem-bad-date-time = 日時を 2020-06-01T09:00 の形（東京時間）で入力してください。
problem-bad-date = 日付を 2020-06-01 の形で入力してください。
problem-bad-cron = cron式の書き方が正しくありません。「分 時 日 月 曜日」の5項目で書いてください（例：0 9 * * MON#1 は毎月第1月曜 9:00）。
problem-one-schedule = 日時とcron式のどちらか一方だけを入力してください。
problem-passed = この日時はもう過ぎています。
problem-never-fires-between = このスケジュールでは、{ $from }から{ $until }までに一度も配信されません。
problem-never-fires = このスケジュールでは、今後一度も配信されません（たとえば2月31日は来ません）。
problem-issue-for-manuscripts = 号は東商新聞のときだけ入力します。
problem-unknown-theme = 計画にないテーマです。一覧から選んでください。
problem-unknown-channel = 配信経路を選んでください。
problem-no-duty = 計画では、このテーマのこの配信経路に事業がありません。
problem-english-for-newsletters = 英語のメールはメールマガジンだけです。
problem-expires-days = 日数は1〜3650の数で入力してください。
problem-password-short = パスワードは{ $min }文字以上にしてください（入力は{ $chars }文字）。
problem-password-control = パスワードに制御文字は使えません。
problem-password-common = よく使われるパスワードです。別のものにしてください。
problem-password-like-address = パスワードがメールアドレスとほとんど同じです。別のものにしてください。
problem-unknown-role = 役割を選んでください。
problem-unknown-outcome = 結果を選んでください。
problem-does-not-render = この宛先に向けたメールを作れません（テンプレートの誤り）：{ $cause }

## Pages for anyone: sign-in and 403 in the chosen language, a member's broken link in both (templates/web/*.hbs)
sign-in-title = ログイン
sign-in-lead = スタッフ・監査担当の方は、登録されたメールアドレスとパスワードでログインしてください。
sign-in-email = メールアドレス
sign-in-password = パスワード
sign-in-button = ログイン
sign-in-forgot = パスワードを忘れた場合は、管理者にリセットを依頼してください。
sign-in-too-many = ログインの試行が多すぎます。しばらく待ってから、もう一度お試しください。
sign-in-wrong = メールアドレスまたはパスワードが正しくありません。
sign-in-control = メールアドレスに使えない文字（改行や制御文字）が含まれています。
switch-to-other-language = English
forbidden-title = 操作できません
forbidden-form = フォームの有効期限が切れたか、ほかのサイトから送信されました。ページを開き直してから、もう一度お試しください。
forbidden-role = この操作は、あなたの権限（{ $role }）では行えません。
forbidden-back = 最初のページへ戻る
form-incomplete = フォームの内容が足りません。ページを開き直してから、もう一度お試しください。
invalid-link-title = リンクが無効です
invalid-link-expired = このリンクは有効期限が切れています
invalid-link-expired-text = 配信停止や配信設定のリンクは、メールの送信から一定期間でご利用いただけなくなります。新しいメールに記載されたリンクをお使いいただくか、下記までご連絡ください。配信を停止いたします。
invalid-link-broken = このリンクは使用できません
invalid-link-broken-text = リンクが途中で切れているか、書き換えられている可能性があります。メールに記載されたリンクを、そのままブラウザで開いてください。解決しない場合は、下記までお問い合わせください。
invalid-link-ask = 新しいリンクをメールで受け取る
invalid-link-send = 送信
link-requested-title = 配信設定のリンク
link-requested-sent = 新しいリンクをお送りしました
link-requested-sent-text = ご入力のアドレスが会員として登録されていれば、配信設定ページへの新しいリンクを数分以内にお送りします。届かない場合は、迷惑メールフォルダもご確認ください。
link-requested-too-many = しばらくしてからお試しください
link-requested-too-many-text = 短い間に多くのご依頼をいただきました。1時間ほど置いてから、もう一度お試しください。お急ぎの場合は、下記までご連絡ください。
link-requested-not-an-address = メールアドレスをご確認ください
link-requested-not-an-address-text = ご入力の内容はメールアドレスとして読み取れませんでした。前のページに戻り、もう一度ご入力ください。
preview-link-title = プレビューのリンク
preview-link-heading = これはプレビュー用のリンクです
preview-link-text = このリンクは、担当者が確認のために表示したメール（プレビューまたはテスト送信）に含まれていたものです。配信の停止や配信設定の変更は行われません。
preview-link-members = 会員の方は、実際に届いたメールに記載されたリンクをお使いください。
unavailable-title = ただいま処理できません
unavailable-text = しばらくしてから、もう一度お試しください。

## Figures and a member's own pages (src/web/staff/dashboard/figures.rs, src/web/pages.rs)
fiscal-month = { $month }月
fiscal-year-name = { $era }（{ $year }年度）
chart-title = { $year }のテーマ別・月別の送信数
member-title-leave = 配信停止
member-title-left = 配信停止の完了
member-title-preferences = 配信設定
member-done-join-refused = このアドレスへの配信は停止されているため、「{ $theme }」の配信は開始されていません。
member-done-joined = 「{ $theme }」の配信を開始しました。
member-done-left = 「{ $theme }」の配信を停止しました。
member-done-left-all = すべての配信を停止しました。

## Schedules (src/web/staff/campaigns.rs, campaigns/form.rs)
schedule-once = 1回（{ $at }）
schedule-cron = 繰り返し（cron式による指定）
preset-first-monday = 毎月第1月曜 9:00
preset-every-monday = 毎週月曜 9:00
preset-first-of-month = 毎月1日 9:00
preset-with-cron = { $name }（{ $cron }）
list-separator = 、
tokyo-time = 東京時間

## The action log as sentences (src/web/staff/sentences.rs)
actor-kind-operator = コマンドラインの操作者
actor-kind-user = 利用者
actor-kind-member = 会員本人
actor-kind-smtp = メールサーバーの応答
actor-kind-scheduler = スケジューラー
target-run = 配信 #{ $id }
target-fiscal-year = { $year }年度
action-other = { $who }：{ $action }（{ $target }）
action-advisor-activate = { $who } が経営指導員 { $target } への資料送付を有効にしました
action-advisor-deactivate = { $who } が経営指導員 { $target } への資料送付を無効にしました
action-advisors-import = { $who } が経営指導員の一覧を取り込みました
action-members-import = { $who } が会員をCSVファイルから取り込みました
action-plan-import = { $who } が{ $target }の計画を読み込みました
action-campaign-create = { $who } がキャンペーン「{ $target }」を作成しました
action-campaign-edit = { $who } がキャンペーン「{ $target }」を編集しました
action-campaign-pause = { $who } がキャンペーン「{ $target }」を一時停止しました
action-campaign-resume = { $who } がキャンペーン「{ $target }」を再開しました
action-campaign-cancel = { $who } がキャンペーン「{ $target }」を中止しました
action-campaign-finish = { $who } がキャンペーン「{ $target }」を終了しました（配信予定なし）
action-campaign-send-now = { $who } がキャンペーン「{ $target }」を今すぐ送信しました
action-campaign-send-test = { $who } がキャンペーン「{ $target }」のテストメールを送信しました
action-campaign-preview-as-member = { $who } がキャンペーン「{ $target }」のメールを会員あてのものとして表示しました
action-run-retry = { $who } が{ $target }の失敗したメールを再送しました
action-member-unsubscribe = { $who } が { $target } への配信を停止しました
action-member-join = { $who } が { $target } への配信を再開しました
action-member-suppress = { $who } が { $target } へのすべての送信を抑止しました
action-member-erase = { $who } が会員の個人情報を消去しました（{ $target }）
action-audit-retention = { $who } が保存期間を過ぎた個人情報を仮名に置き換えました
action-member-unsuppress = { $who } が { $target } の抑止を解除しました
action-member-link-mailed = { $who } が新しいリンクを依頼し、{ $target } に送信しました
action-token-create = { $who } がAPIトークンを作成しました（{ $target }）
action-token-revoke = { $who } がAPIトークンを失効させました（{ $target }）
action-user-add = { $who } が利用者 { $target } を追加しました
action-user-disable = { $who } が利用者 { $target } を無効にしました
action-user-enable = { $who } が利用者 { $target } を有効にしました
action-user-reset-password = { $who } が { $target } のパスワードを再設定しました
action-user-set-role = { $who } が { $target } の権限を変更しました
action-user-sign-in = { $who } がログインしました
action-user-sign-in-failed = { $target } としてのログインに失敗しました
action-user-sign-out = { $who } がログアウトしました
canonical-record = 記録そのもの（正規化JSON）
what-happened = 内容

## The configuration page (src/web/staff/config_view.rs)
config-how-to-change = 設定は --config で指定したファイルか各項目の環境変数で変更し、サービスを再起動すると反映されます。
config-sections = 設定の区分
config-value = 現在の値：
config-empty = （空欄）
config-section-database = データベース
config-section-schedule = スケジュール
config-section-delivery = 配信
config-section-smtp = メールサーバー（SMTP）
config-section-web = Webサーバー
config-section-templates = メールのテンプレート
config-section-organization = 団体情報
config-section-tosho-shimbun = 東商新聞
config-section-audit = 監査ログ
config-section-themes = 計画のテーマ
config-database-url = データの保存先。sqlite://パス または postgres://ユーザー@ホスト:ポート/DB。パスワードは伏せて表示します。
config-database-max-connections = データベースへの同時接続数。
config-schedule-time-zone = 日時・日付・cron式を解釈するタイムゾーン。
config-schedule-catch-up = 停止後の扱い。latest は直近の見逃した配信を1回だけ行い、skip は遅れた配信を行いません。
config-schedule-max-lateness-secs = latest のとき、見逃した配信をまだ行ってよい遅れ（秒）。
config-schedule-on-time-secs = 定刻どおりとみなす遅れの上限（秒）。
config-schedule-tick-secs = スケジューラーが配信予定を確認する間隔（秒）。
config-delivery-transport = 送信の方式。file：各メールを送信箱フォルダーに書き出します。SMTP：メールサーバー経由で送信します。
config-delivery-outbox = file 方式で書き出すメールのフォルダー。
config-delivery-from = すべてのメールの差出人（From）。
config-delivery-message-id-domain = Message-ID のドメイン部分。
config-delivery-batch-size = 1回の処理で送信待ちから取り出す件数。
config-delivery-max-attempts = 一時的な失敗が続くメールを失敗とするまでの試行回数。
config-delivery-retry-base-secs = 再送までの最初の待ち時間（秒）。回ごとに倍になります。
config-delivery-retry-max-secs = 再送までの待ち時間の上限（秒）。
config-delivery-lease-secs = インスタンスが取り出したメールを保持する時間（秒）。
config-delivery-rate-per-second = 1秒あたりの送信数の上限。0 は無制限。
config-delivery-failure-rate-pause = 配信中の失敗の割合がこれを超えるとキャンペーンを一時停止します。
config-delivery-failure-min-sample = 失敗の割合を判断する前に必要な送信数。
config-delivery-shutdown-grace-secs = 停止時に送信中のメールを待つ時間（秒）。
config-delivery-heartbeat-secs = 各プロセスが稼働をデータベースに知らせる間隔（秒）。
config-delivery-instance-timeout-secs = これより長く応答のないプロセスは停止したとみなし、そのメールを引き継ぎます（秒）。
config-delivery-refusal-streak = 同じ拒否がこの件数続くと、宛先ではなくサーバーの問題としてキャンペーンを一時停止します。
config-smtp-host = メールサーバーのホスト名。
config-smtp-port = メールサーバーのポート番号。
config-smtp-security = 暗号化の方式（none、starttls、tls）。
config-smtp-username = 認証のユーザー名。空欄なら認証しません。
config-smtp-password = 認証のパスワード（伏せて表示）。
config-smtp-password-file = パスワードを記したファイル（環境変数の代わり）。
config-smtp-allow-plaintext-auth = 暗号化なしでのパスワード送信を許可します。同じマシン上の中継サーバーに限ります。
config-smtp-timeout-secs = SMTP のコマンドを打ち切るまでの時間（秒）。
config-smtp-pool-size = メールサーバーへの同時接続数。
config-smtp-hello-name = EHLO で名乗る名前。空欄ならこのマシンのホスト名。
config-smtp-idle-check-secs = これより長く使われていない接続は、送信前に確認します（秒）。
config-smtp-idle-close-secs = これより長く使われていない接続は閉じます（秒）。
config-web-base-url = ページの公開アドレス。メール内のリンクに使います。
config-web-link-ttl-days = 会員向けリンクが送信後に有効な日数。
config-web-previous-signing-key = 鍵の切り替え中の旧署名鍵（伏せて表示）。
config-web-bind = Webサーバーが待ち受けるアドレスとポート。
config-web-allow-http = http:// の公開アドレスを許可します（試験用）。
config-web-signing-key = 会員向けリンクに署名する鍵（伏せて表示）。
config-web-signing-key-file = 署名鍵を記したファイル。
config-web-session-idle-minutes = 操作がないままこの時間（分）が過ぎるとログアウトします。
config-web-session-absolute-hours = ログインからこの時間（時間）が過ぎると必ずログアウトします。
config-web-sign-in-per-minute-per-address = 1つのメールアドレスあたり1分間に許すログイン試行の回数。
config-web-sign-in-per-minute-per-client = 1つの接続元あたり1分間に許すログイン試行の回数。
config-web-trusted-proxies = X-Forwarded-For を信用するリバースプロキシ。
config-web-header-read-timeout-secs = リクエストのヘッダーが届くまで待つ時間（秒）。
config-web-idle-timeout-secs = 何も届かない接続を閉じるまでの時間（秒）。
config-web-max-connections = 同時に処理する接続数。
config-templates-dir = 組み込みのメールテンプレートをファイル単位で置き換えるフォルダー。空欄なら使いません。
config-organization-name = メールに記載する団体名。
config-organization-department = メールに記載する部署名。
config-organization-name-en = 英語のメールに記載する団体名。
config-organization-department-en = 英語のメールに記載する部署名。
config-organization-email = メールに記載する連絡先アドレス。
config-organization-phone = 連絡先の電話番号。
config-organization-website = 団体のWebサイト。
config-tosho-shimbun-editorial-desk = 原稿を受け取る東商新聞編集部のアドレス。
config-audit-seal-secs = 送信ログ・操作ログ・同意の履歴を検証可能なログに封印し、署名付きチェックポイントを作る間隔（秒）。
config-audit-witnesses = その日の最新のチェックポイントを毎日メールで受け取るアドレス（例: 東京都の担当者）。受け取った人は、後からログが書き換えられていないことを確かめられます。
config-audit-retention-days = 「outreach audit retention」で、この日数より古い送信ログ・操作ログ・同意の履歴の氏名やアドレスを仮名に置き換えます（ログの検証はそのまま通ります）。

## Test mails (src/web/staff/campaigns/test_mail.rs)
test-mail-to = テストメールの宛先
test-mail-to-note = 最大10件。カンマまたは空白で区切ってください。見本の宛先向けの内容で、件名の先頭に［テスト］と付き、リンクを押しても何も変わりません。

## Failures (src/web/staff/kit.rs)
failure-not-found = 見つかりません
failure-invalid = 入力に誤りがあります
failure-conflict = この操作はできません
failure-forbidden = 操作できません
failure-ours = ただいま処理できません

## Empty states and what to do next; a run's failures (templates/web/staff/*.hbs)
no-campaign-next-step = 絞り込みの条件を変えるか、新しいキャンペーンを作成してください。
failed-mails-of-this-run = この回の送信失敗
no-run-yet-scheduled = 予定の日時になると、自動で送信が始まります。すぐに送る場合は「今すぐ送信」を使ってください。
no-run-yet-paused = 一時停止中のため送信されません。再開すると、次の予定の日時から送信します。
no-run-is-sending-next-step = 予定の配信は時刻になると自動で始まり、ここに進み具合が表示されます。
see-the-campaigns = キャンペーン一覧へ
nothing-is-due-next-step = 配信を予定するには、キャンペーンを作成してください。
no-instance-next-step = 送信するには、サーバーでサービスを起動してください（管理者の作業です）。
no-rows-next-step = 絞り込みの条件を変えてください。
show-all-records = すべての記録を表示
no-member-found-next-step = 別のことばで検索してください。
all-members = すべての会員を表示
no-member-yet-next-step = 会員名簿のCSVファイルを取り込むと、ここに表示されます。
no-action-on-this-address = このアドレスへの操作はまだありません。
no-advisor-next-step = 経営指導員は、サーバーで次のコマンドを使って取り込みます：
no-token-next-step = APIを使うには、下のフォームでトークンを作成してください。

## CSV import problems (src/web/staff/import_problems.rs)
import-file-refused = ファイルを取り込めません。{ $problems }
import-column-email = メールアドレス
import-column-company = 会社名
import-column-contact_name = 担当者名
import-column-themes = テーマ
import-column-locale = 言語
import-column-name = 氏名
import-column-branch = 支部
import-column-named = 「{ $name }」（{ $column }）
import-quoted = 「{ $value }」
import-quoted-cut = 「{ $shown }…」（全{ $chars }文字）
import-theme-named = 「{ $slug }」（{ $name }）
import-list-separator = 、
import-detail-separator = ；
import-problem-unreadable = この行を読み取れません。
import-problem-invalid-utf8 = { $lines }行目に読み取れない文字があります（ファイルが UTF-8 でも Shift_JIS でもありません）。
import-problem-invalid-utf8-lines = { $lines }行目に読み取れない文字があります（ファイルが UTF-8 でも Shift_JIS でもありません）。
import-problem-field-count = 列の数が違います：{ $expected }列のはずが、{ $found }列あります。
import-problem-tab = { $column }にタブ文字が入っています。取り除いてください。
import-problem-line-break = { $column }に改行が入っています。1行にまとめてください。
import-problem-control = { $column }に制御文字（{ $code }）が入っています。取り除いてください。
import-problem-too-long = { $column }が{ $chars }文字あり、上限の{ $limit }文字を超えています。
import-problem-required = { $column }が空です（必須の項目です）。
import-problem-missing-address = メールアドレスが空です（必須の項目です）。
import-problem-invalid-address = メールアドレス{ $value }の形が正しくありません（{ $fault }）。
import-problem-invalid-address-plain = メールアドレス{ $value }の形が正しくありません。
import-address-fault-missing-parts = @ がありません
import-address-fault-unbalanced = 山かっこ < > の対応が取れていません
import-address-fault-invalid-user = @ より前の部分が正しくありません
import-address-fault-invalid-domain = @ より後ろのドメインが正しくありません
import-address-fault-invalid-input = 使えない文字が入っています
import-problem-non-ascii-user = メールアドレスの @ より前に、半角の英数字・記号以外の文字があります。多くのメールサーバーは、このようなアドレスに配信できません。
import-problem-domain-not-idna = メールアドレスのドメイン{ $domain }は、国際化ドメイン名として正しくありません。
import-problem-ascii-form-too-long = メールアドレスは、ドメインを半角英数字の形に直すと{ $chars }文字になり、上限の{ $limit }文字を超えます。
import-problem-duplicate-address = メールアドレス{ $value }は{ $first }行目と同じアドレスです。
import-problem-no-themes = テーマが空です。テーマを1つ以上、またはすべてのテーマを表す「*」を指定してください。
import-problem-star-mixed = テーマ{ $value }に「*」と個別のテーマが混ざっています。「*」だけにするか、テーマを「;」で区切って並べてください。
import-problem-unknown-theme = テーマ{ $unknown }は計画にありません。使えるテーマ：{ $known }。
import-problem-unknown-themes = テーマ{ $unknown }は計画にありません。使えるテーマ：{ $known }。
import-problem-no-themes-defined = テーマ{ $unknown }は計画にありません。計画にはテーマがひとつもありません。
import-problem-unknown-locale = 言語{ $value }は使えません。「ja」（日本語）か「en」（英語）にしてください（空欄なら日本語）。
import-problem-empty-file = ファイルが空です。1行目は列名の行{ $header }にしてください。
import-problem-unreadable-header = 列名の行を読み取れません。列名の行は{ $header }にしてください。
import-problem-invalid-header = 列名の行{ $header }が正しくありません（{ $details }）。必要な列は{ $expected }です（順序は自由）。
import-header-missing = 足りない列：{ $columns }
import-header-unexpected = 余分な列：{ $columns }
import-header-duplicated = 重複した列：{ $columns }
import-header-undecodable = ファイルが UTF-8 でも Shift_JIS でもないようです。
