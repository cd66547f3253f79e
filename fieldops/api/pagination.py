from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView


class DefaultPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


def paginated_response(
    view: APIView,
    request: Request,
    queryset: QuerySet[Any],
    serializer_class: type[BaseSerializer],
    context: dict[str, Any] | None = None,
) -> Response:
    """One page of the queryset, serialized, in the default pagination's envelope."""
    paginator = DefaultPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)
