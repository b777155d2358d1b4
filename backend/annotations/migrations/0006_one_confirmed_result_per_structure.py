"""At most one confirmed result per series and structure (a partial unique index)."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("annotations", "0005_result_owners_and_duplicate_confirmations")]

    operations = [
        migrations.AddConstraint(
            model_name='result',
            constraint=models.UniqueConstraint(condition=models.Q(('state', 'confirmed')), fields=('series', 'structure_key'), name='annotations_one_confirmed_result_per_structure'),
        ),
    ]
