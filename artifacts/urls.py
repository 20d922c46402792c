from django.urls import path

from artifacts import views

urlpatterns = [
    path("", views.home, name="home"),
]
