-- +goose Up
-- The mapping of the identity provider's groups to roles and departments,
-- edited by admins on /admin/sso. CITYBOT_OIDC_GROUPS fills it once, when
-- it was never filled (oidc_mapping_state); from then on the table holds.
CREATE TABLE oidc_groups (
    id         bigserial PRIMARY KEY,
    group_name text NOT NULL UNIQUE CHECK (group_name <> '' AND length(group_name) <= 256),
    role       text NOT NULL CHECK (role IN ('admin', 'editor', 'staff')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE oidc_group_departments (
    group_id      bigint NOT NULL REFERENCES oidc_groups (id) ON DELETE CASCADE,
    department_id text NOT NULL REFERENCES departments (id) ON UPDATE CASCADE ON DELETE CASCADE,
    PRIMARY KEY (group_id, department_id)
);
CREATE INDEX oidc_group_departments_department ON oidc_group_departments (department_id);
CREATE TABLE oidc_mapping_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seeded_at timestamptz NOT NULL DEFAULT now()
);
-- The groups of a user's last sign-in through the provider (NULL: never
-- signed in that way). Their role and departments follow the mapping: at
-- every sign-in and whenever an admin changes the mapping.
ALTER TABLE users ADD COLUMN oidc_groups text[];

-- +goose Down
ALTER TABLE users DROP COLUMN oidc_groups;
DROP TABLE oidc_mapping_state;
DROP TABLE oidc_group_departments;
DROP TABLE oidc_groups;
