from django.urls import path

from canvass.sync.apis import SyncPullApi, SyncPushApi

urlpatterns = [
    path("sync/push/", SyncPushApi.as_view(), name="sync-push"),
    path("sync/pull/", SyncPullApi.as_view(), name="sync-pull"),
]
