from rest_framework import serializers


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    organization = serializers.DictField(allow_null=True)
    role = serializers.CharField(allow_null=True)
    timezone = serializers.CharField()
