"""Routes of the shift, assignment and walk-list API (mounted under /api/v1/)."""

from django.urls import path

from canvass.field import apis

urlpatterns = [
    path("shifts/", apis.ShiftListApi.as_view(), name="shifts"),
    path("shifts/<int:shift_id>/", apis.ShiftDetailApi.as_view(), name="shift"),
    path("shifts/<int:shift_id>/signup/", apis.ShiftSignupApi.as_view(), name="shift-signup"),
    path("shifts/<int:shift_id>/cancel/", apis.ShiftCancelApi.as_view(), name="shift-cancel"),
    path("shifts/<int:shift_id>/check-in/", apis.ShiftCheckInApi.as_view(), name="shift-check-in"),
    path("shifts/<int:shift_id>/check-out/", apis.ShiftCheckOutApi.as_view(), name="shift-check-out"),
    path("shifts/<int:shift_id>/roster/", apis.ShiftRosterApi.as_view(), name="shift-roster"),
    path("shifts/<int:shift_id>/no-show/", apis.ShiftNoShowApi.as_view(), name="shift-no-show"),
    path("assignments/", apis.AssignmentListApi.as_view(), name="assignments"),
    path("assignments/<int:assignment_id>/", apis.AssignmentDetailApi.as_view(), name="assignment"),
    path("assignments/<int:assignment_id>/end/", apis.AssignmentEndApi.as_view(), name="assignment-end"),
    path("assignments/<int:assignment_id>/reassign/", apis.AssignmentReassignApi.as_view(), name="assignment-reassign"),
    path("assignments/<int:assignment_id>/walk-list/", apis.WalkListApi.as_view(), name="walk-list"),
]
