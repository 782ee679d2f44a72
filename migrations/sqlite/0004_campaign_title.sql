-- What members see of a campaign, apart from its staff name: the title in the mail's banner and <title>
-- (empty: the theme's title), and for a Tosho Shimbun manuscript the issue it is meant for (empty: an
-- upcoming issue, no date).
ALTER TABLE campaigns ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN issue TEXT NOT NULL DEFAULT '';
