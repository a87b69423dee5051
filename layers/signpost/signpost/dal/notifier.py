"""SNS: the "you have N new notifications" message to an organisation's subscribers.

One topic for every organisation. Each message carries the organisation code as the
message attribute `org`; an organisation's subscriptions (e-mail, SMS, HTTPS) have the
filter policy `{"org": ["<code>"]}`, so each hears only about its own inbox. The text
is made by logic/notifications.py and never says anything about a child.
"""

from __future__ import annotations

from signpost.dal.clients import sns
from signpost.observability import logger

SUBJECT = "Signpost"


class SnsAnnouncer:
    def __init__(self, topic_arn: str) -> None:
        self.topic_arn = topic_arn

    def announce(self, org: str, text: str) -> None:
        if not self.topic_arn:
            logger.warning("no notifications topic configured; announcement skipped")
            return
        sns().publish(
            TopicArn=self.topic_arn,
            Subject=SUBJECT,
            Message=text,
            MessageAttributes={"org": {"DataType": "String", "StringValue": org}},
        )
