"""Declarations tied to CNIPA (issue 19): the states follow CNIPA's process (draft → filed → announced →
withdrawal filed → withdrawn), the content Implementing Regulations art. 85 asks for, and the basis each
licence rests on.

Data: a "published" declaration was only ever announced in the platform's own gazette, never by CNIPA, so it
becomes "filed"; its platform-invented KF number is not a CNIPA number and is cleared, and the platform's
gazette entries (KF/CH numbers) are removed, the gazette now mirroring CNIPA's announcements only. A
withdrawn declaration keeps its state, its withdrawal counted as filed when it was made. Every existing
licence rests on the platform basis (no declaration was announced by CNIPA)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def forward(apps, schema_editor):
    Declaration = apps.get_model("licensing", "Declaration")
    GazetteEntry = apps.get_model("licensing", "GazetteEntry")
    Declaration.objects.filter(state="published").update(state="filed")
    Declaration.objects.exclude(cnipa_number=None).update(cnipa_number=None)
    for declaration in Declaration.objects.filter(state="withdrawn").only("pk", "withdrawn_at", "withdrawn_by"):
        Declaration.objects.filter(pk=declaration.pk).update(withdrawal_filed_at=declaration.withdrawn_at,
                                                             withdrawal_filed_by=declaration.withdrawn_by_id)
    GazetteEntry.objects.all().delete()


def backward(apps, schema_editor):
    Declaration = apps.get_model("licensing", "Declaration")
    # Announced by CNIPA or being withdrawn: all were standing offers, "published" in the old model.
    Declaration.objects.filter(state__in=["filed", "announced", "withdrawal_filed"]).update(state="published")


class Migration(migrations.Migration):

    dependencies = [
        ('licensing', '0005_certificate_serial'),
        ('parties', '0002_notification'),
        ('patents', '0004_patentchange_annual_fees'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name='declaration', name='licensing_d_state_21cc46_idx'),
        migrations.RemoveConstraint(model_name='declaration', name='one_published_declaration_per_patent'),
        migrations.RemoveConstraint(model_name='declaration', name='declaration_withdrawal_needs_reason'),
        migrations.RenameField(model_name='declaration', old_name='published_at', new_name='filed_at'),
        migrations.RenameField(model_name='declaration', old_name='published_by', new_name='filed_by'),
        migrations.RenameField(model_name='declaration', old_name='announcement_number', new_name='cnipa_number'),
        migrations.AlterModelOptions(
            name='declaration',
            options={'ordering': ['-filed_at', '-created_at'], 'verbose_name': 'open-licence declaration', 'verbose_name_plural': 'open-licence declarations'},
        ),
        migrations.AddField(
            model_name='declaration',
            name='announced_on',
            field=models.DateField(blank=True, null=True, verbose_name='announced by CNIPA on'),
        ),
        migrations.AddField(
            model_name='declaration',
            name='announcement_recorded_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='declaration',
            name='announcement_source',
            field=models.CharField(blank=True, choices=[('holder', 'Entered by the holder'), ('cnipa_import', "Imported from CNIPA's announcements")], max_length=20, verbose_name='announcement entered from'),
        ),
        migrations.AddField(
            model_name='declaration',
            name='cnipa_withdrawal_number',
            field=models.CharField(blank=True, max_length=40, null=True, unique=True, verbose_name='CNIPA withdrawal announcement number'),
        ),
        migrations.AddField(
            model_name='declaration',
            name='conditions_commitment',
            field=models.BooleanField(default=False, help_text='The patentee commits that the patent meets the conditions for open licensing.', verbose_name='commitment that the conditions are met'),
        ),
        migrations.AddField(
            model_name='declaration',
            name='fee_basis_statement',
            field=models.TextField(blank=True, help_text='How the licence fee was calculated (at most 2,000 characters).', max_length=2000, verbose_name='basis of the fee calculation'),
        ),
        migrations.AddField(
            model_name='declaration',
            name='withdrawal_announced_on',
            field=models.DateField(blank=True, null=True, verbose_name='withdrawal announced by CNIPA on'),
        ),
        migrations.AddField(
            model_name='declaration',
            name='withdrawal_filed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='withdrawal filed at CNIPA'),
        ),
        migrations.AddField(
            model_name='declaration',
            name='withdrawal_filed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='licence',
            name='basis',
            field=models.CharField(choices=[('statutory', 'Statutory open licence (Patent Law arts. 50-51)'), ('platform', "Ordinary licence contract on the platform's terms")], default='platform', max_length=10, verbose_name='basis'),
        ),
        migrations.AlterField(
            model_name='declaration',
            name='cnipa_number',
            field=models.CharField(blank=True, max_length=40, null=True, unique=True, verbose_name='CNIPA announcement number'),
        ),
        migrations.AlterField(
            model_name='declaration',
            name='filed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='filed at CNIPA'),
        ),
        migrations.AlterField(
            model_name='declaration',
            name='state',
            field=models.CharField(choices=[('draft', 'Draft'), ('filed', 'Filed at CNIPA'), ('announced', 'Announced by CNIPA'), ('withdrawal_filed', 'Withdrawal filed'), ('withdrawn', 'Withdrawn')], default='draft', max_length=20, verbose_name='state'),
        ),
        migrations.RunPython(forward, backward),
        migrations.AddIndex(
            model_name='declaration',
            index=models.Index(fields=['state', '-filed_at'], name='licensing_d_state_728e55_idx'),
        ),
        migrations.AddConstraint(
            model_name='declaration',
            constraint=models.UniqueConstraint(condition=models.Q(('state__in', ('filed', 'announced', 'withdrawal_filed'))), fields=('patent',), name='one_standing_declaration_per_patent'),
        ),
        migrations.AddConstraint(
            model_name='declaration',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('state', 'announced'), _negated=True), models.Q(('announced_on__isnull', False), ('cnipa_number__isnull', False)), _connector='OR'), name='announced_declaration_has_cnipa_number_and_date'),
        ),
        migrations.AddConstraint(
            model_name='declaration',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('state__in', ['withdrawal_filed', 'withdrawn']), _negated=True), models.Q(('withdrawal_reason', ''), _negated=True), _connector='OR'), name='declaration_withdrawal_needs_reason'),
        ),
    ]
