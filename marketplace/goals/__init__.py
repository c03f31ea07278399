"""Goal search: a business goal typed in plain words, read into a search strategy.

    "SaaS companies in California with 50+ employees under $120"
    → {"industries": ["Software"], "locations": ["CA"], "employee_min": 50, "employee_max": None,
       "price_max": "120.00", "keywords": []}

The parser is deterministic and local (no external service): the same goal and the same
vocabulary always give the same strategy. It reads, in this order, each part taking the words
it used so the next parts do not read them again:

1. company size: "50+ employees", "over 200 employees", "between 10 and 50 staff",
   "fewer than 20 people", "1k+ employees", or a size word from `SIZE_WORDS`
   ("small businesses" = 1-99). Bounds are inclusive: "over 200" is read as 200 or more.
   A lower bound without a noun ("with 50+", "over 200") is a size too;
2. a price cap: "under $120", "max 80 dollars", "less than 50", "$100 or less", "$40-$90"
   (the cap is the upper end). An upper bound without an employee noun is a price;
3. locations: US states by name or postal code ("California", "CA"; codes only in capitals,
   and the ones that are also English words ("IN", "OR", "ME"...) only after "in", "from" or a
   comma), a few nicknames (`LOCATION_SYNONYMS`), and the places the catalog's listings name
   (a one-word place only when capitalised or after "in"/"from"/"near"...). A state comes out
   the way the catalog writes it: "CA" when listings say "San Diego, CA", "California" when
   they spell it out;
4. industries: the catalog's own industries, and the synonyms of `INDUSTRY_SYNONYMS` ("SaaS"
   → the catalog's software industries). A synonym group no catalog industry belongs to gives
   its canonical name;
5. keywords: every other meaningful word, lower-cased, stop words dropped.

`vocabulary()` is what the catalog offers right now (distinct industries and locations of
approved listings), cached briefly and extended as listings are approved.

The package: `vocabulary` (what the catalog offers, and the tables of synonyms and states),
`parser` (a goal read into a strategy, a strategy edited), `results` (the catalog ranked by a
goal's strategy).
"""
