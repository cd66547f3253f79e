"""Counting the knocks of a window into stats rows, with numpy. A pure module: no Django.

The caller (canvass/stats/services.py) reads the knocks of some days as
columns and says under which keys each knock counts (its campaign, its
canvasser, the districts and the turfs of its door); this module counts every
(day, key) of every kind as a group: attempts, contacts, refusals, support
levels and literature drops are bincounts, distinct and new doors are unique
(group, door) pairs, answers are unique (group, option) pairs. A door in
several districts, or turfs, counts in each (its knock is repeated once per
key). The first version counted knock by knock in Python: 30 µs a knock, a
1,000,000-knock rebuild at 3.9x one GROUP BY (docs/performance.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# The counts of a stats row, in the order count_knocks gives them (then new_doors, then answers).
METRIC_FIELDS = (
    "attempts",
    "doors_knocked",
    "contacts",
    "refusals",
    "support_1",
    "support_2",
    "support_3",
    "support_4",
    "support_5",
    "literature_drops",
)


@dataclass(frozen=True)
class Knocks:
    """The knocks of a window as columns (int64 arrays), one element per knock."""

    day: np.ndarray  # the knock's local day, as an index into the window's days
    door: np.ndarray  # door id
    contact: np.ndarray  # 1 when someone answered the door
    refusal: np.ndarray
    literature: np.ndarray  # 1 for a literature drop
    support: np.ndarray  # support level 1-5, 0 when none
    # (knock index, its answers: a {question id: option id} dict or its JSON text), answered knocks only.
    answered: Sequence[tuple[int, object]] = ()


@dataclass(frozen=True)
class Grouping:
    """One kind of stats row and the key each knock counts under."""

    kind: str
    # One key per knock; or, with by_door, (door id, key) pairs: a knock counts once
    # under each key of its door (pairs of doors not knocked are ignored).
    keys: np.ndarray
    by_door: bool = False
    new_doors: bool = True  # whether the row counts the doors first knocked that day


@dataclass(frozen=True)
class Counted:
    """One stats row: the counts of one (day, key) of one kind."""

    kind: str
    day: int  # index into the window's days
    key: int
    metrics: tuple[int, ...]  # in METRIC_FIELDS order
    new_doors: int
    answers: dict[str, int]  # {option id: knocks that chose it}


def _distinct(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting: numpy's hash-based unique took 1.4 s for 5 million int64 here, a sort 0.4 s."""
    if len(values) == 0:
        return values
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def _dense(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True) for non-negative ids, by a lookup table instead of a sort."""
    top = int(values.max()) if len(values) else 0
    if top > 50_000_000:  # ids too sparse for a table: sort
        unique, inverse = np.unique(values, return_inverse=True)
        return unique, inverse.reshape(-1)
    present = np.zeros(top + 1, dtype=bool)
    present[values] = True
    return np.flatnonzero(present), (np.cumsum(present) - 1)[values]


def _csr(pairs: np.ndarray, n_doors: int) -> tuple[np.ndarray, np.ndarray]:
    """(door index, key) pairs -> per door, where its keys start in `keys` and the keys."""
    order = np.argsort(pairs[:, 0], kind="stable")
    keys = pairs[order, 1]
    counts = np.bincount(pairs[:, 0], minlength=n_doors)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return np.stack([starts, counts]), keys


def _expand(items: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each item (a door index), each position of its CSR block starts[item] … +counts[item]."""
    reps = counts[items]
    out_rows = np.repeat(items, reps)
    offsets = np.arange(len(out_rows)) - np.repeat(np.cumsum(reps) - reps, reps)
    return out_rows, np.repeat(starts[items], reps) + offsets


def _options(answered: Iterable[tuple[int, object]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One (knock, option) pair per answered question: (option names, option index of each pair, knock of each)."""
    opt_rows: list[int] = []
    opt_values: list[str] = []
    for row, answers in answered:
        if isinstance(answers, str):
            answers = json.loads(answers)
        if isinstance(answers, dict):
            for value in answers.values():
                if value is not None:
                    opt_rows.append(row)
                    opt_values.append(str(value))
    option_names, option_idx = np.unique(np.asarray(opt_values, dtype=object), return_inverse=True)
    return option_names, option_idx, np.asarray(opt_rows, dtype=np.int64)


def count_knocks(knocks: Knocks, groupings: Sequence[Grouping], first_day: Mapping[int, int]) -> list[Counted]:
    """The stats rows of the knocks, grouping by grouping (each in order of day, then key).

    `first_day` gives, for doors first knocked on a day of the window, the
    index of that day: what new_doors counts.
    """
    n = len(knocks.door)
    if n == 0:
        return []
    day_idx = knocks.day
    doors_all, door_c = np.unique(knocks.door, return_inverse=True)
    rows = np.arange(n, dtype=np.int64)
    first_idx = np.full(len(doors_all), -1, dtype=np.int64)
    for door_id, day in first_day.items():
        position = int(np.searchsorted(doors_all, door_id))
        if position < len(doors_all) and doors_all[position] == door_id:
            first_idx[position] = day
    option_names, option_idx, opt_row_arr = _options(knocks.answered)

    out: list[Counted] = []
    for grouping in groupings:
        if grouping.by_door:
            # The door's keys as CSR blocks over the compact door index; doors not knocked dropped.
            pairs = grouping.keys.reshape(-1, 2)
            found = np.searchsorted(doors_all, pairs[:, 0])
            known = (found < len(doors_all)) & (doors_all[np.minimum(found, len(doors_all) - 1)] == pairs[:, 0])
            pairs = np.column_stack([found[known], pairs[known, 1]])
            if not len(pairs):
                continue
            (starts, counts), keys = _csr(pairs, len(doors_all))
            # One entry per (knock, key of its door), knocks in order.
            _, positions = _expand(door_c, starts, counts)
            entry_rows = np.repeat(rows, counts[door_c])
            entry_keys = keys[positions]
        else:
            entry_rows, entry_keys = rows, grouping.keys
        out.extend(
            _count_grouping(
                knocks,
                grouping,
                entry_rows,
                entry_keys,
                day_idx,
                door_c,
                first_idx,
                option_names,
                option_idx,
                opt_row_arr,
            )
        )
    return out


def _count_grouping(
    knocks: Knocks,
    grouping: Grouping,
    entry_rows: np.ndarray,
    entry_keys: np.ndarray,
    day_idx: np.ndarray,
    door_c: np.ndarray,
    first_idx: np.ndarray,
    option_names: np.ndarray,
    option_idx: np.ndarray,
    opt_row_arr: np.ndarray,
) -> list[Counted]:
    # One int64 per (day, key): 1-D uniques sort far faster than row-wise ones.
    key_values, key_idx = _dense(entry_keys)
    combined = day_idx[entry_rows] * len(key_values) + key_idx.reshape(-1)
    # (day, key) numbers are small (days x keys): a dense lookup instead of a sort.
    present = np.zeros(int(combined.max()) + 1, dtype=bool)
    present[combined] = True
    group_ids = np.flatnonzero(present)
    group = (np.cumsum(present) - 1)[combined]
    group = group.reshape(-1)
    g = len(group_ids)
    group_keys = np.column_stack([group_ids // len(key_values), key_values[group_ids % len(key_values)]])

    def total(weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(group, weights=weights, minlength=g).astype(np.int64)

    n_doors = len(first_idx)
    pair_ids = _distinct(group * n_doors + door_c[entry_rows])
    pairs = np.column_stack([pair_ids // n_doors, pair_ids % n_doors])
    support = knocks.support[entry_rows]
    metrics = [
        total(),
        np.bincount(pairs[:, 0], minlength=g).astype(np.int64),  # doors knocked
        total(knocks.contact[entry_rows]),
        total(knocks.refusal[entry_rows]),
        *(total((support == level).astype(np.int64)) for level in range(1, 6)),
        total(knocks.literature[entry_rows]),
    ]
    if grouping.new_doors:
        is_new = first_idx[pairs[:, 1]] == group_keys[pairs[:, 0], 0]
        new = np.bincount(pairs[is_new, 0], minlength=g).astype(np.int64)
    else:
        new = np.zeros(g, dtype=np.int64)
    answers_of: list[dict[str, int]] = [{} for _ in range(g)]
    if len(opt_row_arr):
        # Join the answered rows to this kind's entries (an entry per key of the row).
        # Entries come in knock order (each knock's keys together), so no sort is needed.
        first = np.searchsorted(entry_rows, opt_row_arr, side="left")
        last = np.searchsorted(entry_rows, opt_row_arr, side="right")
        reps = last - first
        exp_option = np.repeat(option_idx, reps)
        offsets = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        exp_group = group[np.repeat(first, reps) + offsets]
        n_options = len(option_names)
        counted, counts = np.unique(exp_group * n_options + exp_option, return_counts=True)
        for pair, count in zip(counted.tolist(), counts.tolist(), strict=True):
            answers_of[pair // n_options][option_names[pair % n_options]] = count
    columns = [m.tolist() for m in metrics]
    new_list = new.tolist()
    return [
        Counted(grouping.kind, d, key, tuple(c[i] for c in columns), new_list[i], answers_of[i])
        for i, (d, key) in enumerate(group_keys.tolist())
    ]
