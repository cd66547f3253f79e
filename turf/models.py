"""Geography: district layers, districts, doors, people.

Geometry is stored without a spatial database: each district keeps its
GeoJSON (for maps and exports), its WKB (for fast loading into shapely) and a
bounding box (for a cheap SQL prefilter). Point-in-polygon is done in Python
with shapely's STRtree on import, and the answer stored in DoorDistrict.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from fieldops.models import Organization


class DistrictLayer(models.Model):
    """A set of districts of one kind: council, assembly, neighborhood council."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="district_layers")
    name = models.CharField(max_length=120)
    source = models.CharField(max_length=300, blank=True, help_text="Where the boundaries came from.")
    id_field = models.CharField(max_length=64, blank=True)
    name_field = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="layer_name_unique_per_org"),
        ]

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="districts")
    layer = models.ForeignKey(DistrictLayer, on_delete=models.CASCADE, related_name="districts")
    # The id the district has in its source file ("11" for CD11, or the
    # neighborhood council's name where the file has no id): re-imports match on it.
    external_id = models.CharField(max_length=120)
    name = models.CharField(max_length=200)
    geojson = models.JSONField(help_text="Geometry as GeoJSON (WGS84).")
    wkb = models.BinaryField(help_text="Geometry as WKB, for fast loading into shapely.")
    min_lng = models.FloatField()
    min_lat = models.FloatField()
    max_lng = models.FloatField()
    max_lat = models.FloatField()
    properties = models.JSONField(default=dict, blank=True)
    repaired = models.BooleanField(
        default=False, help_text="The source polygon was invalid and was repaired on import."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["layer", "name"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "external_id"], name="district_id_unique_per_layer"),
            models.CheckConstraint(
                condition=Q(min_lng__lte=F("max_lng")) & Q(min_lat__lte=F("max_lat")),
                name="district_bbox_ordered",
            ),
            models.CheckConstraint(
                condition=Q(min_lng__gte=-180, max_lng__lte=180, min_lat__gte=-90, max_lat__lte=90),
                name="district_bbox_in_world",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.layer.name}: {self.name}"


class GeocodeQuality(models.TextChoices):
    SOURCE = "source", "From the source file"
    EXACT = "exact", "Geocoded: exact address"
    INTERPOLATED = "interpolated", "Geocoded: interpolated on the street"
    APPROXIMATE = "approximate", "Geocoded: approximate (street or area)"
    MANUAL = "manual", "Placed by hand"
    NONE = "none", "No location"


class Door(models.Model):
    """One knockable address, unit-level where the address has units.

    Addresses repeat across sources (the Venice file lists 16,159 rows for
    15,413 addresses): the unique key is the normalized address, not the
    source id.
    """

    # Indexed by the unique (organization, address_key) constraint's prefix.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="doors", db_index=False)
    # Doors at one location (a house, an apartment block, a front and rear
    # house) share a building key: "b:<building outline id>" where the source
    # file gives an outline ("b:060372738001-320"), else "p:<lng>,<lat>" rounded
    # to 7 decimals ("p:-118.4421102,33.9991056"); empty when the door has
    # neither. Turf cutting never splits a building between turfs. A key, not a
    # Building table: a table cost the million-door import 0.7 M more rows and
    # 1.65 M foreign-key checks (about 20 s of 119 s on PostgreSQL). No index:
    # nothing looks doors up by building; turf cutting loads a universe's
    # doors at once.
    building_key = models.CharField(max_length=120, blank=True)
    # Normalized address: upper case, USPS abbreviations ("AVE", "S"), the
    # parts joined; see turf/addresses.py. Unique per organization.
    address_key = models.CharField(max_length=255)
    number = models.CharField(max_length=16, blank=True)
    number_suffix = models.CharField(max_length=16, blank=True, help_text='e.g. "1/2"')
    pre_dir = models.CharField(max_length=8, blank=True)
    street_name = models.CharField(max_length=120)
    street_type = models.CharField(max_length=16, blank=True)
    post_dir = models.CharField(max_length=8, blank=True)
    unit_type = models.CharField(max_length=16, blank=True)
    unit = models.CharField(max_length=32, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=2, blank=True, default="CA")
    zip = models.CharField(max_length=10, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    geocode_quality = models.CharField(max_length=16, choices=GeocodeQuality.choices, default=GeocodeQuality.SOURCE)
    # The id of the row in its import file (Venice: address_id). Several source
    # rows can merge into one door; the first one's id is kept, all are in extra.
    source = models.CharField(max_length=64, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["street_name", "pre_dir", "street_type", "number", "number_suffix", "unit"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "address_key"], name="door_address_unique_per_org"),
            models.CheckConstraint(condition=Q(lat__isnull=True) | Q(lat__gte=-90, lat__lte=90), name="door_lat_range"),
            models.CheckConstraint(
                condition=Q(lng__isnull=True) | Q(lng__gte=-180, lng__lte=180), name="door_lng_range"
            ),
            models.CheckConstraint(
                condition=Q(lat__isnull=True, lng__isnull=True) | Q(lat__isnull=False, lng__isnull=False),
                name="door_lat_lng_together",
            ),
        ]
        # No more indexes than queries need: each one costs every import
        # (measured: the street and source-id indexes doubled the time to
        # write a million doors on PostgreSQL). The unique address key serves
        # lookups by organization; add an index when a query needs one.

    def __str__(self) -> str:
        return self.display_address

    @property
    def display_address(self) -> str:
        number = f"{self.number} {self.number_suffix}".strip()
        street = " ".join(p for p in (self.pre_dir, self.street_name, self.street_type, self.post_dir) if p)
        unit = f" {self.unit_type or '#'} {self.unit}".rstrip() if self.unit else ""
        return f"{number} {street}{unit}".strip()


class DoorAlias(models.Model):
    """Another spelling of a door's address: the same point, house number,
    fraction and unit under another street name.

    The LA address points list every Lincoln Blvd address also as "PCH",
    "SR-1" and "1" (Lincoln is State Route 1 there), every Venice Blvd one
    also as "SR-187" and "187", and a few canal-side points under two walk
    names: 654 Venice points carry 1,784 extra spellings. One door, whose own
    columns hold the spelling shown in walk lists and exports (the local
    street name, see turf/addresses.py display_rank); the others are kept
    here so that imports and voter files written with them find the door.
    The door's own spelling is not repeated here (a million plain doors add
    no rows). An alias key is unique per organization, like a door's, and
    never equal to a door's address key (the importer keeps it so).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    door = models.ForeignKey(Door, on_delete=models.CASCADE, related_name="aliases")
    # The alias's normalized address, built as Door.address_key.
    address_key = models.CharField(max_length=255)
    pre_dir = models.CharField(max_length=8, blank=True)
    street_name = models.CharField(max_length=120)
    street_type = models.CharField(max_length=16, blank=True)
    post_dir = models.CharField(max_length=8, blank=True)
    # The id this spelling had as a door of its own, when it was merged into
    # `door` (turf.services.doors_merge): a phone that went offline before the
    # merge still names that id, and its knocks land on `door` (canvass push).
    merged_door_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["door", "street_name"]
        verbose_name_plural = "door aliases"
        constraints = [
            models.UniqueConstraint(fields=["organization", "address_key"], name="door_alias_unique_per_org"),
        ]

    def __str__(self) -> str:
        street = " ".join(p for p in (self.pre_dir, self.street_name, self.street_type, self.post_dir) if p)
        return f"{street} (door {self.door_id})"


class DoorDistrict(models.Model):
    """A door lies in a district. Computed on import by point-in-polygon.

    A door can be in several districts of one layer where the layer is not a
    clean partition (a few Venice points fall in two neighborhood councils).

    This table is derived data, recomputed from the doors' coordinates and the
    districts' polygons (turf.districting.door_districts_assign), and it is the
    largest one an import writes (a door per layer: 4 million rows for a
    million doors). So it has no database foreign keys: PostgreSQL checks
    each one per row at commit, which measured 39 s of a 70 s load of 2
    million links. Django still cascades deletes of doors and districts, and
    no code deletes either with raw SQL. The primary key is the pair (no
    surrogate id: one index and a sequence call less per row) and, with the
    (district, door) index, serves both directions.
    """

    pk = models.CompositePrimaryKey("door", "district")
    door = models.ForeignKey(
        Door, on_delete=models.CASCADE, related_name="district_links", db_constraint=False, db_index=False
    )
    district = models.ForeignKey(
        District, on_delete=models.CASCADE, related_name="door_links", db_constraint=False, db_index=False
    )

    class Meta:
        indexes = [models.Index(fields=["district", "door"])]

    def __str__(self) -> str:
        return f"{self.door_id} in {self.district_id}"


class Person(models.Model):
    """A person at a door (a voter). Minimal PII: what a canvasser needs at the door."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="people")
    door = models.ForeignKey(Door, on_delete=models.CASCADE, related_name="people")
    first_name = models.CharField(max_length=80, blank=True)
    last_name = models.CharField(max_length=80, blank=True)
    external_voter_id = models.CharField(
        max_length=64, blank=True, help_text="The voter file's id (VAN id, state voter id)."
    )
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    party = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_voter_id"],
                condition=~Q(external_voter_id=""),
                name="person_voter_id_unique_per_org",
            ),
            models.CheckConstraint(
                condition=Q(birth_year__isnull=True) | Q(birth_year__gte=1880, birth_year__lte=2100),
                name="person_birth_year_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or f"Person {self.pk}"
