"""Querysets compiled to SQL once per process, for the reader pages' hot path.

Django turns a queryset into SQL each time it runs it. For the small queries
a story page makes that is about 0.15-0.2 ms of Python apiece, more than the
database takes to answer them, and most of an uncached page's database time.

`prepared` wraps a function that builds a queryset from keyword values. The
first call for a given shape of values (their types, and the length of any
list) builds the queryset with stand-in values, compiles it, and learns where
each value lands among the SQL parameters. Every later call puts the real
values in those places, runs the same SQL, and turns the rows into model
instances as Django's ModelIterable does, from what the compiler worked out
once (the columns' converters, deferred fields, annotations, the model's
`from_db()`).

Only what can be verified is prepared. While compiling, each value must show
up among the parameters exactly as Django adapted it, changing a value must
change those parameters and nothing else (not the SQL text, as a value inlined
into the SQL would), and the queryset must be a plain model queryset without
select_related() or prefetch_related(), whose extra objects are not rebuilt
here. Anything else raises ImproperlyConfigured on the first call rather than
returning the wrong rows.

It leans on three long-stable attributes of Django's SQL compiler (`select`,
`klass_info`, `annotation_col_map`), the ones ModelIterable itself reads;
tests/test_prepared.py compares its rows with the queryset's.
"""

import datetime
import functools
import itertools
import threading

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import connections, router
from django.db.models.query import ModelIterable

_EPOCH = datetime.datetime(1901, 1, 1, tzinfo=datetime.UTC)


def _stand_in(value, serial, variant):
    """A value of `value`'s type that no real query would use."""
    if isinstance(value, bool) or value is None:
        raise ImproperlyConfigured(
            f"prepared queries cannot take {value!r}: it changes the SQL itself"
        )
    if isinstance(value, int):
        return 7_000_000_000 + serial * 10 + variant
    if isinstance(value, str):
        return f"\x1fprepared-{serial}-{variant}"
    if isinstance(value, datetime.datetime):
        stand_in = _EPOCH + datetime.timedelta(days=serial, seconds=variant)
        return stand_in if value.tzinfo else stand_in.replace(tzinfo=None)
    raise ImproperlyConfigured(f"prepared queries cannot take a {type(value)}")


def _normalise(values):
    """Lists as Django's `__in` sees them: no repeats, order kept."""
    return {
        name: list(dict.fromkeys(value))
        if isinstance(value, list | tuple | set | frozenset)
        else value
        for name, value in values.items()
    }


def _shape(values):
    return tuple(
        (name, len(value), tuple(sorted({type(v).__name__ for v in value})))
        if isinstance(value, list)
        else (name, type(value).__name__)
        for name, value in sorted(values.items())
    )


def _unchanged(value):
    return value


def _adapters(connection, value):
    """How Django may have turned `value` into a parameter on this database."""
    if isinstance(value, datetime.datetime):
        return [_unchanged, connection.ops.adapt_datetimefield_value]
    return [_unchanged]


class _Plan:
    """One compiled query: its SQL, and how to fill it in and read its rows."""

    def __init__(self, db, sql, params, slots, compiler=None):
        self.db, self.sql, self.params, self.slots = db, sql, params, slots
        if compiler is None:  # a count
            return
        # What ModelIterable works out from the compiler on every run.
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        self.model = klass_info["model"]
        self.start, self.stop = fields[0], fields[-1] + 1
        self.init_list = [s[0].target.attname for s in select[self.start : self.stop]]
        self.annotations = list(compiler.annotation_col_map.items())
        columns = [s[0] for s in select[: compiler.col_count]]
        self.converters = list(compiler.get_converters(columns).items())

    def _execute(self, cursor, values):
        params = list(self.params)
        for position, name, index, adapt in self.slots:
            value = values[name] if index is None else values[name][index]
            params[position] = adapt(value)
        cursor.execute(self.sql, params)

    def rows(self, values):
        connection = connections[self.db]
        with connection.cursor() as cursor:
            self._execute(cursor, values)
            rows = cursor.fetchall()
        instances = []
        for row in rows:
            if self.converters:
                row = list(row)
                for position, (converters, expression) in self.converters:
                    value = row[position]
                    for convert in converters:
                        value = convert(value, expression, connection)
                    row[position] = value
            instance = self.model.from_db(
                self.db, self.init_list, row[self.start : self.stop]
            )
            for name, position in self.annotations:
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances

    def count(self, values):
        with connections[self.db].cursor() as cursor:
            self._execute(cursor, values)
            return cursor.fetchone()[0]


class Prepared:
    """See the module docstring. Call it for all rows; `page()`, `count()`."""

    #: Plans kept per query: one per shape of values and page, oldest dropped.
    max_plans = 256

    def __init__(self, build):
        self.build = build
        self._plans = {}
        self._model = None  # known after the first compilation
        self._lock = threading.Lock()
        functools.update_wrapper(self, build)

    def __call__(self, **values):
        """The rows of `build(**values)`, as model instances."""
        plan, values = self._plan("rows", None, values)
        return [] if plan is None else plan.rows(values)

    def page(self, start, stop, **values):
        """The rows of `build(**values)[start:stop]`."""
        plan, values = self._plan("rows", (start, stop), values)
        return [] if plan is None else plan.rows(values)

    def count(self, **values):
        """How many rows `build(**values)` has, as `QuerySet.count()` says."""
        plan, values = self._plan("count", None, values)
        return 0 if plan is None else plan.count(values)

    def _plan(self, kind, bounds, values):
        values = _normalise(values)
        # Plans are per database too: a router may send reads elsewhere
        # (briefings/replicas.py), and the SQL was compiled for one of them.
        model = self._model
        alias = None if model is None else router.db_for_read(model)
        key = (kind, bounds, _shape(values), alias)
        try:
            return self._plans[key], values
        except KeyError:
            pass
        plan = self._compile(values, kind, bounds)
        key = (kind, bounds, _shape(values), router.db_for_read(self._model))
        with self._lock:  # threads may compile at once; one trims at a time
            while len(self._plans) >= self.max_plans:
                del self._plans[next(iter(self._plans))]
            self._plans[key] = plan
        return plan, values

    def _stand_ins(self, values, variant_of=None):
        serials = itertools.count(1)
        stand_ins = {}
        for name, value in sorted(values.items()):
            variant = 1 if name == variant_of else 0
            if isinstance(value, list):
                stand_ins[name] = [_stand_in(v, next(serials), variant) for v in value]
            else:
                stand_ins[name] = _stand_in(value, next(serials), variant)
        return stand_ins

    def _sql(self, stand_ins, kind, bounds):
        queryset = self.build(**stand_ins)
        self._model = queryset.model
        if queryset._iterable_class is not ModelIterable:
            raise ImproperlyConfigured(f"{self.__name__}: not a model queryset")
        if queryset.query.select_related or queryset._prefetch_related_lookups:
            raise ImproperlyConfigured(
                f"{self.__name__}: select_related/prefetch_related cannot be "
                "prepared; query the related model instead"
            )
        if bounds is not None:
            queryset = queryset[bounds[0] : bounds[1]]
        query = queryset.query
        if kind == "count":
            # What QuerySet.count() asks for a query with joins, as one string.
            query = queryset.order_by().values("pk").query
        compiler = query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return queryset.db, None, None, None
        if kind == "count":
            sql, compiler = f"SELECT COUNT(*) FROM ({sql}) counted", None
        return queryset.db, compiler, sql, list(params)

    def _compile(self, values, kind, bounds):
        base = self._stand_ins(values)
        db, compiler, sql, params = self._sql(base, kind, bounds)
        if sql is None:  # e.g. an empty `__in` list: no query at all
            return None
        connection = connections[db]
        slots, claimed = [], set()
        for name, stand_in in base.items():
            scalars = (
                list(enumerate(stand_in))
                if isinstance(stand_in, list)
                else [(None, stand_in)]
            )
            for index, scalar in scalars:
                found = [
                    (position, adapt)
                    for adapt in _adapters(connection, scalar)
                    for position, param in enumerate(params)
                    if position not in claimed and _same(param, adapt(scalar))
                ]
                if not found:
                    raise ImproperlyConfigured(
                        f"{self.__name__}: the value of {name!r} does not reach "
                        "the SQL parameters unchanged"
                    )
                adapt = found[0][1]
                for position, found_adapt in found:
                    if found_adapt is adapt:
                        slots.append((position, name, index, adapt))
                        claimed.add(position)
        # Changing one value must change its own parameters and nothing else.
        for name in base:
            *_, other_sql, other_params = self._sql(
                self._stand_ins(values, name), kind, bounds
            )
            changed = {
                i
                for i, (a, b) in enumerate(zip(params, other_params, strict=False))
                if not _same(a, b)
            }
            own = {position for position, slot_name, *_ in slots if slot_name == name}
            if other_sql != sql or len(other_params) != len(params) or changed != own:
                raise ImproperlyConfigured(
                    f"{self.__name__}: the value of {name!r} changes more than "
                    "its own SQL parameters"
                )
        return _Plan(db, sql, params, slots, compiler)


def _same(a, b):
    return type(a) is type(b) and a == b


def prepared(build):
    """Decorator: `build(**values)` returns a queryset; see the module docstring."""
    return Prepared(build)
