"""paginate(): a page and the total of the rows it comes from, on every database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.pages import paginate
from app.models import Item
from app.runtime import Runtime
from tests.utils.factories import make_item, make_user


def test_a_page_its_total_and_the_pages_around_it(db: Session, runtime: Runtime) -> None:
    owner, other = make_user(db, runtime), make_user(db, runtime)
    mine = [make_item(db, owner, title=f"item {n}") for n in range(5)]
    make_item(db, other)
    query = select(Item).where(Item.owner_id == owner.id).order_by(Item.id)

    page, total = paginate(db, query, skip=1, limit=2)
    assert [item.id for item in page] == [mine[1].id, mine[2].id]
    assert total == 5  # the filtered rows, not the page nor the table
    assert paginate(db, query, skip=4, limit=10) == ([mine[4]], 5)
    # Past the end: no rows, and the total all the same.
    assert paginate(db, query, skip=50, limit=10) == ([], 5)
    nothing = select(Item).where(Item.owner_id == -1).order_by(Item.id)
    assert paginate(db, nothing, skip=0, limit=10) == ([], 0)
