import os, psycopg
def test_pg(demo_server):
    url = demo_server.env.get("DATABASE_URL")
    print("\nserver DATABASE_URL:", url, "SQLITE_PATH:", demo_server.env.get("SQLITE_PATH"))
    if url:
        with psycopg.connect(url) as c:
            print("children:", c.execute("select count(*) from families_child").fetchone())
