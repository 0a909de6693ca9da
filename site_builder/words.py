"""The words of a paper's text, as related papers and the theme model both read them.

In: text. Out: ``TOKEN`` (a word: a letter, then letters, digits, ``_`` or ``-``, in
lowercased text) and ``STOP_WORDS`` (left out). One definition, so the two TF-IDF users
(build/tfidf.py, classify/model.py) cannot drift apart, and classify need not import
the build stage.
"""

from __future__ import annotations

import re

TOKEN = re.compile(r"\b[a-z][\w-]+\b")

# Function words, plus the words every abstract in this field uses.
_STOP_TEXT = """
a about above after again against all also although am an and any are as at be because
been before being below between both but by can could did do does doing done down during
each either few for from further had has have having he her here hers herself him himself
his how however i if in into is it its itself just may me might more most much must my
myself neither no nor not now of off on once one only or other our ours ourselves out over
own same shall she should so some such than that the their theirs them themselves then
there these they this those through thus to too under until up upon us very via was we
were what when where whether which while who whom why will with within without would yet
you your yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
