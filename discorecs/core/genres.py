"""The 15 Discogs genres, in the fixed order of every taste and release-score vector."""

GENRES: tuple[str, ...] = (
    "Blues",
    "Brass & Military",
    "Children's",
    "Classical",
    "Electronic",
    "Folk, World, & Country",
    "Funk / Soul",
    "Hip Hop",
    "Jazz",
    "Latin",
    "Non-Music",
    "Pop",
    "Reggae",
    "Rock",
    "Stage & Screen",
)

GENRE_INDEX: dict[str, int] = {genre: i for i, genre in enumerate(GENRES)}
