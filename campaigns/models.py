"""Campaigns: the program → campaign → tactic plan, and the facts logged against it — spend entries
(money actually spent) and daily result facts (impressions … won revenue)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from mops.money import CurrencyField, MoneyField


class Program(models.Model):
    """An initiative that groups campaigns and serves an objective (e.g. "Q3 Enterprise ABM")."""

    name = models.CharField(max_length=160)
    code = models.SlugField(max_length=40, unique=True)
    team = models.ForeignKey("mops.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="programs")
    objective = models.ForeignKey(
        "planning.Objective", null=True, blank=True, on_delete=models.SET_NULL, related_name="programs"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"  # being written; nothing committed
    PLANNED = "planned", "Planned"  # in the plan, not yet in launch review
    IN_LAUNCH_REVIEW = "in_launch_review", "In launch review"  # the launch workflow runs
    LIVE = "live", "Live"  # running; spend and results flow in
    COMPLETED = "completed", "Completed"  # ended; late invoices may still arrive
    CANCELLED = "cancelled", "Cancelled"


class Campaign(models.Model):
    """A campaign: what a team plans to run on a channel between two dates, at a planned cost."""

    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=60, unique=True)  # also the join key for imports and UTMs
    program = models.ForeignKey(Program, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns")
    team = models.ForeignKey("mops.Team", on_delete=models.PROTECT, related_name="campaigns")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_campaigns")
    channel = models.ForeignKey("planning.Channel", on_delete=models.PROTECT, related_name="campaigns")
    region = models.ForeignKey("planning.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    segment = models.ForeignKey("planning.Segment", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    objective = models.ForeignKey(
        "planning.Objective", null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    status = models.CharField(max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    start_date = models.DateField()
    end_date = models.DateField()
    description = models.TextField(blank=True)
    planned_cost = MoneyField(default=0)
    currency = CurrencyField()
    planned_cost_base = MoneyField(default=0)  # in settings.BASE_CURRENCY at the start date's rate
    expected_leads = models.PositiveIntegerField(default=0)
    expected_mqls = models.PositiveIntegerField(default=0)
    expected_pipeline = MoneyField(default=0)  # base currency
    expected_revenue = MoneyField(default=0)  # base currency
    landing_url = models.URLField(blank=True)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    utm_content = models.CharField(max_length=100, blank=True)
    utm_term = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="campaign_end_after_start"),
            models.CheckConstraint(condition=Q(planned_cost__gte=0), name="campaign_planned_cost_not_negative"),
        ]
        indexes = [
            # The campaign list's usual filters: a team's campaigns by status, newest first.
            models.Index(fields=["team", "status", "-start_date"], name="campaign_team_status_idx"),
            models.Index(fields=["channel", "-start_date"], name="campaign_channel_idx"),
            models.Index(fields=["owner", "-start_date"], name="campaign_owner_idx"),
            # The calendar: campaigns overlapping a date range.
            models.Index(fields=["start_date", "end_date"], name="campaign_dates_idx"),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Tactic(models.Model):
    """A piece of a campaign, possibly on another channel (e.g. the retargeting line of an event)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tactics")
    name = models.CharField(max_length=160)
    channel = models.ForeignKey("planning.Channel", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    planned_cost = MoneyField(default=0)

    class Meta:
        ordering = ["campaign", "name"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="tactic_unique_campaign_name"),
            models.CheckConstraint(condition=Q(planned_cost__gte=0), name="tactic_planned_cost_not_negative"),
        ]

    def __str__(self):
        return self.name


class FactSource(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    API = "api", "API"
    GENERIC = "generic", "Spreadsheet import"
    GOOGLE_ADS = "google_ads", "Google Ads"
    META_ADS = "meta_ads", "Meta Ads"
    LINKEDIN_ADS = "linkedin_ads", "LinkedIn Ads"
    MICROSOFT_ADS = "microsoft_ads", "Microsoft Advertising"


class SpendEntry(models.Model):
    """Money actually spent on a campaign (an invoice line, a day of ad-platform cost).

    Entries with an ``external_key`` (one per campaign, day and source for imports and API upserts)
    are unique, so importing the same file twice is one row; hand-entered invoices have none.
    """

    # No separate index: the unique (campaign, date, source, external_key) index serves campaign lookups.
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="spend", db_index=False)
    tactic = models.ForeignKey(Tactic, null=True, blank=True, on_delete=models.SET_NULL, related_name="spend")
    date = models.DateField()
    amount = MoneyField()
    currency = CurrencyField()
    amount_base = MoneyField()  # converted at the booking date's rate (mops.selectors.fx_rate_on)
    vendor = models.CharField(max_length=160, blank=True)
    reference = models.CharField(max_length=80, blank=True)  # invoice or PO number
    source = models.CharField(max_length=20, choices=FactSource.choices, default=FactSource.MANUAL)
    external_key = models.CharField(max_length=120, null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            # NULL keys never collide, so hand-entered invoices repeat freely; keyed rows (imports,
            # API upserts) are one per campaign, day, source and key — the ON CONFLICT target. Its
            # (campaign, date) prefix also serves "a campaign's spend over a date range".
            models.UniqueConstraint(
                fields=["campaign", "date", "source", "external_key"], name="spend_unique_keyed_fact"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="spend_amount_not_negative"),
        ]

    def __str__(self):
        return f"{self.campaign.code} {self.date} {self.amount} {self.currency}"


RESULT_MEASURES = [
    "impressions",
    "clicks",
    "leads",
    "mqls",
    "sqls",
    "opportunities",
    "pipeline",
    "new_customers",
    "revenue",
]


class ResultFact(models.Model):
    """A campaign's results for one day from one source. Logging the same day again updates it."""

    # No separate index: the unique (campaign, date, source) index serves campaign lookups.
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="results", db_index=False)
    date = models.DateField()
    source = models.CharField(max_length=20, choices=FactSource.choices, default=FactSource.MANUAL)
    impressions = models.PositiveBigIntegerField(default=0)
    clicks = models.PositiveBigIntegerField(default=0)
    leads = models.PositiveIntegerField(default=0)
    mqls = models.PositiveIntegerField(default=0)
    sqls = models.PositiveIntegerField(default=0)
    opportunities = models.PositiveIntegerField(default=0)
    pipeline = MoneyField(default=0)  # base currency
    new_customers = models.PositiveIntegerField(default=0)  # won deals
    revenue = MoneyField(default=0)  # won revenue, base currency
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "campaign"]
        constraints = [
            # One row per campaign, day and source: the key of every upsert (forms, imports, API).
            models.UniqueConstraint(fields=["campaign", "date", "source"], name="result_unique_campaign_date_source"),
            models.CheckConstraint(condition=Q(pipeline__gte=0) & Q(revenue__gte=0), name="result_money_not_negative"),
        ]

    def __str__(self):
        return f"{self.campaign.code} {self.date} ({self.source})"


class ImportStatus(models.TextChoices):
    CHECKING = "checking", "Checking"  # a large file: stored, the worker checks its rows
    UPLOADED = "uploaded", "Uploaded"  # parsed and checked; waiting for mapping or confirmation
    QUEUED = "queued", "Queued"  # the worker will run it
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"  # nothing committed; errors say why


class ImportBatch(models.Model):
    """One uploaded file of spend and results: its checks, its progress and its outcome."""

    class CommitMode(models.TextChoices):
        ALL_OR_NOTHING = "all", "Commit nothing if any row is bad"
        GOOD_ROWS = "good", "Commit the good rows, report the bad ones"

    file = models.FileField(upload_to="imports/%Y/%m/")
    filename = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=20, choices=FactSource.choices)
    commit_mode = models.CharField(max_length=4, choices=CommitMode.choices, default=CommitMode.ALL_OR_NOTHING)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)  # last sent to a worker (``imports_requeue``)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)  # progress while running
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)  # [{"row": 12, "message": "…"}], capped
    unknown_campaigns = models.JSONField(default=list)  # names/ids in the file that match no campaign
    # What the import does with each column of the file's header, in order:
    # [{"column": "Leads", "field": "leads"}, {"column": "Notes", "field": null}] (null: ignored).
    columns = models.JSONField(default=list, blank=True)
    # Campaign-days whose spend in the file repeats, to the cent, spend stored under another source
    # (capped; see imports.checking): starting the import then needs an explicit "import anyway".
    # [{"row": 7, "campaign": "brand-us", "date": "2026-01-05", "amount": "10.00", "currency": "USD",
    #   "source": "google_ads"}]
    repeats = models.JSONField(default=list, blank=True)
    repeat_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["uploaded_by", "-created_at"], name="importbatch_user_idx")]

    def __str__(self):
        return f"{self.filename} ({self.get_status_display()})"


class CampaignAlias(models.Model):
    """How a campaign is named in an ad platform's export, remembered from the user's mapping."""

    source = models.CharField(max_length=20, choices=FactSource.choices)
    external_ref = models.CharField(max_length=255)  # the campaign name or id in the file
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="aliases")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_ref"], name="campaignalias_unique_source_ref"),
        ]

    def __str__(self):
        return f"{self.get_source_display()}: {self.external_ref} → {self.campaign.code}"


class AttachmentKind(models.TextChoices):
    BRIEF = "brief", "Brief"
    CREATIVE = "creative", "Creative"
    CONTRACT = "contract", "Contract / PO"
    REPORT = "report", "Report"
    OTHER = "other", "Other"


class CampaignAttachment(models.Model):
    """A file kept with a campaign: its brief, creative, contract or PO, a report.

    The file is stored under a random name (``attachments/%Y/%m/<hex>.<ext>``), never the name the
    user gave it, which is kept in ``name`` for display and as the download's filename.
    ``content_type`` is what ``campaigns.attachments.filetypes`` detected from the content, not what the
    browser claimed. Write through ``attachments.services.attachment_add`` / ``attachment_delete``, which check
    the type and size and keep file and row together.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/", max_length=255)
    name = models.CharField(max_length=255)  # the uploaded file's name, for display and download
    size = models.PositiveBigIntegerField()  # bytes
    content_type = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=AttachmentKind.choices, default=AttachmentKind.OTHER)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            # Empty files are refused on upload; the row never describes nothing.
            models.CheckConstraint(condition=Q(size__gt=0), name="attachment_size_positive"),
        ]
        indexes = [
            # The campaign page's "Files" list and the API's ?campaign= filter, newest first.
            models.Index(fields=["campaign", "-uploaded_at"], name="attachment_campaign_idx"),
        ]

    def __str__(self):
        return self.name
