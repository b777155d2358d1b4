from accounts.permissions import HasRole
from accounts.roles import Role

CanUploadImages = HasRole.of(Role.ANNOTATOR, Role.SITE_ADMIN)
CanViewImages = HasRole.of(Role.ANNOTATOR, Role.REVIEWER, Role.SITE_ADMIN)
