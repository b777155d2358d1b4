"""Events the annotations actions emit inside their transactions (the action pattern):
receivers run in the same transaction, so their writes commit or roll back with the change.

result_decided(sender=Result, result, state, actor): a result was confirmed or rejected.
"""
from django.dispatch import Signal

result_decided = Signal()
