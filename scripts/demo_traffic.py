"""Demo traffic for the admin screenshots: links, ~260 clicks over two weeks and ~20 conversions.

Run on a freshly seeded demo database (`TASKLINK_DEMO=1 flask --app api seed-demo`). Clicks and
conversions go through the real redirect and postback (Flask test client);
then their times are moved back over the last two weeks with plain UPDATEs so
the chart by day has something to show. Demo only: never run it on real data.
"""

import datetime as dt
import random
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import text

from api import clicklog, create_app, db
from api.services import advertisers, campaigns, links, partners, tasks

random.seed(7)
app = create_app()
engine = db.get_engine(app)
client = app.test_client()
with db.reading(engine) as conn:
    brand = advertisers.find_by_email(conn, "brand@demo.test")
    pat = partners.find_by_email(conn, "partner@demo.test")
    oli = partners.find_by_email(conn, "other@demo.test")
    camp = next(c for c in campaigns.list_campaigns(conn, brand.id) if c.name.startswith("Spring sale"))
    task_list = tasks.list_tasks(conn, brand.id, camp.id)
made = []
with db.transaction(engine) as conn:
    for partner, shared in ((pat, "instagram"), (pat, "newsletter"), (oli, "youtube"), (oli, None)):
        for task in task_list:
            if task.partner_id in (None, partner.id):
                made.append(
                    links.create_link(conn, partner.id, task.id, reporting={"sharedid": shared} if shared else {})
                )
now = dt.datetime.now(dt.UTC)
click_ids = []
for _ in range(260):
    link = random.choice(made)
    bot = random.random() < 0.08
    ua = "Googlebot/2.1 (+http://www.google.com/bot.html)" if bot else f"Mozilla/5.0 demo-{random.randint(1, 60)}"
    r = client.get(
        f"/s/{link.code}",
        headers={"User-Agent": ua},
        environ_base={"REMOTE_ADDR": f"198.51.100.{random.randint(1, 120)}"},
    )
    cid = dict(parse_qsl(urlsplit(r.headers["Location"]).query)).get("clickid")
    days_ago = min(13, int(random.expovariate(0.18)))
    when = now - dt.timedelta(days=days_ago, minutes=random.randint(0, 600))
    click_ids.append((cid, when, bot))
clicklog.of(app).flush()  # the redirect logged them; store them all before moving their times
with db.transaction(engine) as conn:
    for cid, when, _ in click_ids:
        conn.execute(
            text("UPDATE clicks SET created_at = :t WHERE click_id = :c"), {"t": when.replace(tzinfo=None), "c": cid}
        )
orders = 0
for cid, when, bot in random.sample(click_ids, 60):
    if bot or random.random() < 0.6:
        continue
    orders += 1
    amount = f"{random.choice([19, 29, 49, 79, 129])}.{random.choice(['00', '50', '90'])}"
    r = client.post(
        "/api/v1/conversions",
        json={"click_id": cid, "order_id": f"A-{1000 + orders}", "amount": amount, "currency": "USD"},
        headers={"Authorization": "Bearer demo-brand-key"},
    )
    assert r.status_code == 201, r.json
    with db.transaction(engine) as conn:
        conn.execute(
            text("UPDATE conversions SET created_at = :t, updated_at = :t WHERE order_id = :o"),
            {"t": (when + dt.timedelta(minutes=12)).replace(tzinfo=None), "o": f"A-{1000 + orders}"},
        )
with db.transaction(engine) as conn:
    conn.execute(
        text(
            "UPDATE conversions SET status = 'approved' WHERE id IN (SELECT id FROM conversions ORDER BY created_at LIMIT 6)"
        )
    )
print(len(made), "links", len(click_ids), "clicks", orders, "conversions")
