"""Every action_id, callback_id and block_id, defined once (DESIGN.md section 4)."""

ACTIVITY_DETAILS = "activity_details"
GET_SHARE_CARD = "get_share_card"
MY_STATS = "my_stats"
LEAD_OUTCOME_ATTENDED = "lead_outcome_attended"
LEAD_OUTCOME_NO_SHOW = "lead_outcome_no_show"
LEAD_OUTCOME_CONVERTED = "lead_outcome_converted"
SHARE_LINK_FOR = "share_link_for"
LOG_CONTACT = "log_contact"
CHECK_IN = "check_in"
LEAD_TIMELINE = "lead_timeline"
SHARE_CARD_AGAIN = "share_card_again"  # "send again" under "you already have your card"
OPEN_DM = "open_dm"  # URL button to the bot's DM (Slack still sends an action)

# App Home (handlers/slack/home_blocks.py)
HOME_NEW_ACTIVITY = "home_new_activity"
HOME_EXPORT = "home_export"
HOME_CONSOLE = "home_console"  # a URL button: Slack still sends an action, acknowledged

LEAD_MARK_SPAM = "lead_mark_spam"
LEAD_MARK_DUPLICATE = "lead_mark_duplicate"

MARK_BY_ACTION: dict[str, str] = {
    LEAD_MARK_SPAM: "spam",
    LEAD_MARK_DUPLICATE: "duplicate",
}

OUTCOME_BY_ACTION: dict[str, str] = {
    LEAD_OUTCOME_ATTENDED: "attended",
    LEAD_OUTCOME_NO_SHOW: "no_show",
    LEAD_OUTCOME_CONVERTED: "converted",
}

# Modals (callback_id)
ACTIVITY_MODAL = "activity_modal"
DETAILS_MODAL = "activity_details_modal"
STATS_MODAL = "my_stats_modal"

# Activity modal: block_id == the ActivityDraft field it fills; the element's action_id is VALUE.
VALUE = "value"
BLOCK_NAME = "name"
BLOCK_STARTS_AT = "starts_at"
BLOCK_ENDS_AT = "ends_at"
BLOCK_MATERIAL = "material_type"
BLOCK_HEADLINE = "headline"
BLOCK_INTRO = "intro"
BLOCK_KPI_VIEWS = "kpi_views"
BLOCK_KPI_SIGNUPS = "kpi_signups"
BLOCK_KPI_ATTENDANCE = "kpi_attendance"
BLOCK_SALESPEOPLE = "salespeople"
BLOCK_CHANNEL = "channel_id"
BLOCK_LANGUAGE = "language"
# Points rules in the activity modal: block_id == "points_" + a bot/points.py RULE_FIELDS name.
BLOCK_POINTS_PREFIX = "points_"

# Message metadata event type carried by the bot's lead DMs.
LEAD_DM_EVENT = "sharetrail_lead"

# Lead records (issue 7): modals and their blocks; element action_ids are VALUE.
LOG_CONTACT_MODAL = "log_contact_modal"
TIMELINE_MODAL = "lead_timeline_modal"
CHECK_IN_OPEN = "check_in_open"  # the URL button in the check-in DM (Slack still sends an action)
BLOCK_CONTACT_KIND = "contact_kind"
BLOCK_CONTACT_AT = "contact_at"
BLOCK_CONTACT_SUMMARY = "contact_summary"
BLOCK_CONTACT_FILE = "contact_file"

# Spending points (issue 15 §3): App Home's button, its modal and the reward picker.
REDEEM_POINTS = "redeem_points"
REDEEM_MODAL = "redeem_modal"
BLOCK_REWARD = "reward"
