-- +goose Up
-- News channels (package broadcast): topics citizens subscribe to, posts sent
-- to a topic's subscribers (one durable delivery row per post and citizen),
-- and RSS/Atom feeds whose items become posts.

-- Topics, managed by admins. The slug is the deep-link payload
-- (t.me/<bot>?start=abo-<slug>), so it is short and URL-safe.
CREATE TABLE topics (
    id          bigserial PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9_-]{1,40}$'),
    name_de     text NOT NULL CHECK (name_de <> ''),
    name_en     text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    active      boolean NOT NULL DEFAULT true,
    sort        integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Who subscribed to what. Citizen data: cascades with the citizen.
CREATE TABLE subscriptions (
    citizen_id bigint NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    topic_id   bigint NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (citizen_id, topic_id)
);
CREATE INDEX subscriptions_topic ON subscriptions (topic_id, citizen_id);

-- Subscriber changes per topic and hour, for "subscribers per topic over
-- time". Anonymous counters, kept by statement triggers (also for cascaded
-- deletes), so erasing a citizen does not rewrite history and bulk inserts
-- cost one upsert per topic.
CREATE TABLE subscription_stats (
    topic_id     bigint NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    hour         timestamptz NOT NULL,
    subscribed   integer NOT NULL DEFAULT 0,
    unsubscribed integer NOT NULL DEFAULT 0,
    PRIMARY KEY (topic_id, hour)
);

-- +goose StatementBegin
CREATE FUNCTION subscription_stats_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO subscription_stats (topic_id, hour, subscribed)
    SELECT n.topic_id, date_trunc('hour', now()), count(*) FROM new_rows n
    WHERE EXISTS (SELECT 1 FROM topics t WHERE t.id = n.topic_id)
    GROUP BY n.topic_id
    ON CONFLICT (topic_id, hour) DO UPDATE SET subscribed = subscription_stats.subscribed + excluded.subscribed;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION subscription_stats_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO subscription_stats (topic_id, hour, unsubscribed)
    SELECT o.topic_id, date_trunc('hour', now()), count(*) FROM old_rows o
    WHERE EXISTS (SELECT 1 FROM topics t WHERE t.id = o.topic_id)
    GROUP BY o.topic_id
    ON CONFLICT (topic_id, hour) DO UPDATE SET unsubscribed = subscription_stats.unsubscribed + excluded.unsubscribed;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER subscriptions_added AFTER INSERT ON subscriptions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION subscription_stats_added();
CREATE TRIGGER subscriptions_removed AFTER DELETE ON subscriptions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION subscription_stats_removed();

-- Posts to one or more topics. A post is written as a draft, scheduled
-- (send_at; "now" is send_at = now()), then sending (deliveries are
-- materialised in batches, fanout_cursor = the last citizen id done), then
-- sent; an editor may cancel it while it is scheduled or sending.
CREATE TABLE posts (
    id                  bigserial PRIMARY KEY,
    text                text NOT NULL CHECK (text <> ''),
    -- an http(s) URL or a Telegram file id; or an uploaded photo below
    photo_url           text NOT NULL DEFAULT '',
    photo_data          bytea,
    photo_name          text NOT NULL DEFAULT '',
    link_url            text NOT NULL DEFAULT '',
    -- where a "Frage dazu" conversation is handed off
    department_id       text REFERENCES departments (id) ON UPDATE CASCADE ON DELETE SET NULL,
    is_warning          boolean NOT NULL DEFAULT false,
    status              text NOT NULL DEFAULT 'draft'
                        CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled')),
    send_at             timestamptz,
    created_by          bigint REFERENCES users (id) ON DELETE SET NULL,
    fanout_cursor       bigint NOT NULL DEFAULT 0,
    fanout_done         boolean NOT NULL DEFAULT false,
    started_at          timestamptz,
    finished_at         timestamptz,
    -- final counts, written when the post is finished (deliveries may be purged)
    recipients          integer NOT NULL DEFAULT 0,
    sent_count          integer NOT NULL DEFAULT 0,
    failed_count        integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (status IN ('draft', 'cancelled') OR send_at IS NOT NULL)
);
CREATE INDEX posts_due ON posts (send_at) WHERE status = 'scheduled';
CREATE INDEX posts_sending ON posts (id) WHERE status = 'sending';
CREATE INDEX posts_list ON posts (id DESC);

CREATE TABLE post_topics (
    post_id  bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    topic_id bigint NOT NULL REFERENCES topics (id),
    PRIMARY KEY (post_id, topic_id)
);
CREATE INDEX post_topics_topic ON post_topics (topic_id);

-- One durable row per post and subscriber. Senders claim due rows with
-- FOR UPDATE SKIP LOCKED; a claim sets status 'sending' and a lease in
-- next_attempt_at, after which a crashed sender's rows are claimed again.
-- priority 1 = warning (claimed first, and also in quiet hours).
CREATE TABLE deliveries (
    id              bigserial PRIMARY KEY,
    post_id         bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    citizen_id      bigint NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    chat_id         text NOT NULL,
    priority        smallint NOT NULL DEFAULT 0,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'undeliverable', 'cancelled')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text NOT NULL DEFAULT '',
    sent_at         timestamptz,
    UNIQUE (post_id, citizen_id)
);
CREATE INDEX deliveries_queue ON deliveries (priority DESC, next_attempt_at, id) WHERE status IN ('pending', 'sending');
CREATE INDEX deliveries_post_status ON deliveries (post_id, status);
CREATE INDEX deliveries_citizen ON deliveries (citizen_id);
CREATE INDEX deliveries_chat_sending ON deliveries (chat_id) WHERE status = 'sending';
CREATE INDEX deliveries_chat_sent ON deliveries (chat_id, sent_at) WHERE sent_at IS NOT NULL;

-- Sender instances (heartbeats: the configured rate is shared among the live
-- ones) and the shared pause after a 429.
CREATE TABLE broadcast_senders (
    instance_id text PRIMARY KEY,
    seen_at     timestamptz NOT NULL
);
CREATE TABLE broadcast_pause (
    id           integer PRIMARY KEY CHECK (id = 1),
    paused_until timestamptz NOT NULL
);
INSERT INTO broadcast_pause (id, paused_until) VALUES (1, '-infinity');

-- RSS/Atom feeds, entered by admins, polled on a schedule.
CREATE TABLE feeds (
    id              bigserial PRIMARY KEY,
    url             text NOT NULL CHECK (url ~ '^https?://'),
    title           text NOT NULL DEFAULT '',
    topic_id        bigint NOT NULL REFERENCES topics (id),
    department_id   text REFERENCES departments (id) ON UPDATE CASCADE ON DELETE SET NULL,
    auto_publish    boolean NOT NULL DEFAULT false,
    poll_seconds    integer NOT NULL DEFAULT 900 CHECK (poll_seconds > 0),
    active          boolean NOT NULL DEFAULT true,
    next_fetch_at   timestamptz NOT NULL DEFAULT now(),
    last_fetch_at   timestamptz,
    last_success_at timestamptz,
    last_error      text NOT NULL DEFAULT '',
    etag            text NOT NULL DEFAULT '',
    last_modified   text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (url, topic_id)
);
CREATE INDEX feeds_due ON feeds (next_fetch_at) WHERE active;

-- Items seen in a feed, keyed by a stable identity (the guid, else the
-- normalised link, else a hash of title and date), so that no item is posted
-- twice, also after restarts, refetches and edits of the item.
-- 'skipped': already in the feed when it was first fetched.
CREATE TABLE feed_items (
    id           bigserial PRIMARY KEY,
    feed_id      bigint NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    item_key     text NOT NULL,
    title        text NOT NULL DEFAULT '',
    link         text NOT NULL DEFAULT '',
    summary      text NOT NULL DEFAULT '',
    published_at timestamptz,
    status       text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'approved', 'rejected', 'posted', 'skipped')),
    post_id      bigint REFERENCES posts (id) ON DELETE SET NULL,
    decided_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    decided_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (feed_id, item_key)
);
CREATE INDEX feed_items_new ON feed_items (created_at) WHERE status = 'new';

-- +goose Down
DROP TABLE feed_items;
DROP TABLE feeds;
DROP TABLE broadcast_pause;
DROP TABLE broadcast_senders;
DROP TABLE deliveries;
DROP TABLE post_topics;
DROP TABLE posts;
DROP TABLE subscription_stats;
DROP TABLE subscriptions;
DROP FUNCTION subscription_stats_removed();
DROP FUNCTION subscription_stats_added();
DROP TABLE topics;
